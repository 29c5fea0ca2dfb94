/**
 * Parent memory held in a Node process's own heap: Buffers, each byte
 * written (so every page is really touched, not just mapped), in pieces no
 * larger than a Buffer may be. Shared by the Node driver (impls/node) and
 * the in-process reference (harness/targets/in-process-driver.ts, the in-process
 * target), where the Node process is the parent whose memory a spawn must
 * not copy.
 */
import { constants as bufferConstants } from "node:buffer";
import { totalmem } from "node:os";

const pieceBytes = Math.min(bufferConstants.MAX_LENGTH, 1 << 30);

/** Allocates and touches `bytes` in pieces; throws (RangeError) if the heap cannot have them. */
export function holdInHeap(bytes: number): Buffer[] {
  const held: Buffer[] = [];
  for (let left = bytes; left > 0; left -= pieceBytes) held.push(Buffer.alloc(Math.min(left, pieceBytes), 1));
  return held;
}

/**
 * One region held from one call to the next (the memory benchmark's bench
 * lines), replaced only when the size asked changes. The old region is given
 * back before the new one is touched: dropped Buffers are freed only when V8
 * collects them, so a full collection runs at once (the process must be
 * started with --expose-gc). Otherwise two processes taking turns at 16 GiB
 * on a 24 GiB machine would each still hold their last turn's.
 */
export class HeldHeap {
  private buffers: Buffer[] = [];
  private bytes = 0;

  /** Holds exactly `bytes` (none for 0); throws with the reason when it cannot. */
  hold(bytes: number): void {
    if (bytes === this.bytes) return;
    const hadSome = this.bytes > 0;
    this.buffers = [];
    this.bytes = 0;
    if (hadSome) collectGarbage();
    // Each 1 GiB piece passes the kernel's check on its own: filling past the machine's memory would end in the OOM killer, not an answer.
    if (bytes > totalmem()) throw new RangeError(`more than this machine's memory (${totalmem()} bytes)`);
    this.buffers = holdInHeap(bytes);
    this.bytes = bytes;
  }

  get heldBytes(): number {
    return this.buffers.reduce((sum, piece) => sum + piece.length, 0);
  }
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("cannot give memory back: node was started without --expose-gc");
  gc();
}
