// The log side of C2SP tlog-witness (https://c2sp.org/tlog-witness): send a signed checkpoint to
// each configured witness with `POST <url>/add-checkpoint` (old size, consistency proof from it,
// the note), and take back its cosignature lines only after checking them under the witness's
// configured key. A witness that answers 409 says which size it last cosigned for this log: the
// request is sent once more with a proof from that size. A witness that refuses (a fork, a
// truncation: 422; an unknown log or key: 404/403) or fails adds no cosignature and is reported.
import { parseCosignerKey, verifyCosignatures } from './cosignature.js';
import { parseCheckpoint } from './checkpoint.js';
import { addSignatureLines, parseNote, type VerifierKey } from './signed-note.js';
import { formatAddCheckpointRequest } from './witness.js';

export interface WitnessEndpoint {
  /** Base URL; requests go to `<url>/add-checkpoint`. */
  url: string;
  /** The witness's cosigner verifier key (`name+keyid+base64(0x04 || key)`). */
  key: VerifierKey;
}

/** `<vkey>=<url>`, the coordinator option's form (a vkey has no `=`: its key is 44 base64 characters without padding). */
export function parseWitnessOption(value: string): WitnessEndpoint {
  const at = value.lastIndexOf('=http');
  if (at < 0) throw new Error(`witness "${value}" is not <verifier key>=<http(s) URL>`);
  return { key: parseCosignerKey(value.slice(0, at)), url: value.slice(at + 1).replace(/\/+$/, '') };
}

export interface WitnessOutcome {
  /** The note with every verified cosignature line added. */
  note: string;
  cosignedBy: string[];
  failed: Array<{ witness: string; reason: string }>;
}

const TIMEOUT_MS = 10_000;

export class WitnessClient {
  /** Per witness URL: the size it last cosigned, as far as this process knows. */
  private readonly known = new Map<string, number>();

  constructor(
    private readonly witnesses: readonly WitnessEndpoint[],
    /** The consistency proof from `oldSize` to `newSize` of the log being witnessed. */
    private readonly proof: (oldSize: number, newSize: number) => Promise<Uint8Array[]>,
  ) {}

  /** Sends `note` (a checkpoint signed by the log) to every witness; never throws for a witness's answer. */
  async cosign(note: string): Promise<WitnessOutcome> {
    const size = parseCheckpoint(parseNote(note).text).size;
    const results = await Promise.all(this.witnesses.map(async (w) => ({ w, r: await this.one(w, note, size).catch((err: Error) => ({ error: err.message })) })));
    const lines: string[] = [];
    const cosignedBy: string[] = [];
    const failed: WitnessOutcome['failed'] = [];
    for (const { w, r } of results) {
      if ('error' in r) failed.push({ witness: w.key.name, reason: r.error });
      else {
        lines.push(...r.lines);
        cosignedBy.push(w.key.name);
      }
    }
    return { note: lines.length ? addSignatureLines(note, lines) : note, cosignedBy, failed };
  }

  private async one(w: WitnessEndpoint, note: string, size: number): Promise<{ lines: string[] }> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const oldSize = Math.min(this.known.get(w.url) ?? 0, size);
      const body = formatAddCheckpointRequest({ oldSize, proof: oldSize === 0 || oldSize === size ? [] : await this.proof(oldSize, size), note });
      const res = await fetch(`${w.url}/add-checkpoint`, { method: 'POST', body, signal: AbortSignal.timeout(TIMEOUT_MS) });
      const text = await res.text();
      if (res.status === 409) {
        // The witness holds another size for this log: prove from there (once).
        const held = Number(text.trim());
        if (!Number.isSafeInteger(held) || held < 0) throw new Error(`409 without a size: ${text.slice(0, 200)}`);
        if (held > size) throw new Error(`the witness already cosigned ${held} entries, this checkpoint has ${size}: a truncated log`);
        this.known.set(w.url, held);
        continue;
      }
      if (res.status !== 200) throw new Error(`answered ${res.status}: ${text.trim().slice(0, 200)}`);
      const lines = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => `${l}\n`);
      const verified = verifyCosignatures(addSignatureLines(note, lines), [w.key]);
      if (!verified.some((c) => c.name === w.key.name)) throw new Error('answered no cosignature under its configured key');
      this.known.set(w.url, size);
      return { lines };
    }
    throw new Error('answered 409 twice');
  }
}
