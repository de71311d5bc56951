// The ticks beside a new PIN while it is typed. Presentation only: the Rust side checks
// the PIN again when it arrives and its answer is the one that counts. These mirror its
// rules (crates/flow/src/pin_policy.rs) so the ticks and the answer agree.
import type { PinRules } from "./generated/ipc";

/** What the ticks say about the typed PINs; never the PINs themselves. */
export type PinChecks = {
  longEnough: boolean;
  notObvious: boolean;
  bothMatch: boolean;
  /** Only for a change: the new PIN differs from the current one. */
  differs: boolean;
};

export const NO_PIN_TYPED: PinChecks = { longEnough: false, notObvious: false, bothMatch: false, differs: false };

export function checkPins(rules: PinRules, pin: string, again: string, current?: string): PinChecks {
  const chars = [...pin];
  return {
    longEnough: chars.length >= rules.minLength && new TextEncoder().encode(pin).length <= rules.maxLength,
    notObvious: pin.length > 0 && !(rules.refuseObvious && isObvious(chars)),
    bothMatch: pin.length > 0 && pin === again,
    differs: pin.length > 0 && current !== undefined && current.length > 0 && pin !== current,
  };
}

/** One character repeated ("000000"), or a run of digits or letters ("123456", "fedcba"). */
function isObvious(chars: string[]): boolean {
  if (chars.length === 0) return true;
  if (chars.every((c) => c === chars[0])) return true;
  if (!chars.every((c) => /^[0-9A-Za-z]$/.test(c))) return false;
  const steps = chars.slice(1).map((c, i) => c.codePointAt(0)! - chars[i]!.codePointAt(0)!);
  return steps.every((s) => s === 1) || steps.every((s) => s === -1);
}
