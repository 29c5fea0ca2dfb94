// How a message must put an errno: by name with its number ("EPIPE (32)"),
// never a bare "errno 32", and no word said twice in a row ("errno errno 32").

/** What is wrong with a message's errno wording, or undefined when nothing is. */
export function badErrnoWording(message: string): string | undefined {
  const bare = /(?<!unnamed )\berrno \d+/.exec(message);
  if (bare) return `bare "${bare[0]}"`;
  const doubled = /\b(\w+) \1\b/.exec(message);
  return doubled ? `doubled "${doubled[0]}"` : undefined;
}
