/**
 * Parent memory held in a Node process's own heap: Buffers, each byte
 * written (so every page is really touched, not just mapped), in pieces no
 * larger than a Buffer may be. Shared by the Node driver (impls/node) and
 * the in-process reference (harness/in-process-driver.ts, the in-process
 * target), where the Node process is the parent whose memory a spawn must
 * not copy.
 */
import { constants as bufferConstants } from "node:buffer";

const pieceBytes = Math.min(bufferConstants.MAX_LENGTH, 1 << 30);

/** Allocates and touches `bytes` in pieces; throws (RangeError) if the heap cannot have them. */
export function holdInHeap(bytes: number): Buffer[] {
  const held: Buffer[] = [];
  for (let left = bytes; left > 0; left -= pieceBytes) held.push(Buffer.alloc(Math.min(left, pieceBytes), 1));
  return held;
}
