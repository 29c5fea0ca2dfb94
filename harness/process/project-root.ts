import { fileURLToPath } from "node:url";

/** The project's root directory (with a trailing slash): every stage finds its files from here. */
export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));
