// The parts of the PIN screens. A PIN lives only in its input's value: the inputs are not
// bound to state, what is kept while typing is the ticks (true or false), and the inputs
// are emptied as soon as the PIN has been handed over.
import type { Ref } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { PinRules } from "../generated/ipc";
import { NO_PIN_TYPED, type PinChecks } from "../pin-checks";
import { LiveProblem } from "./problem";

type PinInputProps = {
  id: string;
  label: string;
  hint?: string;
  autoComplete: "new-password" | "off";
  reveal: boolean;
  inputRef: Ref<HTMLInputElement>;
  onInput?: () => void;
  maxLength?: number;
  /** The problem's words when they are about this field (shown under it). */
  problem: string | null;
  /** Marked invalid (the problem concerns it), and described by `describedBy`. */
  invalid: boolean;
  /** The id of the problem text this field is described by, wherever it is shown. */
  describedBy: string | null;
  /** The step that brought the problem: a new one reads the problem out again. */
  answer: unknown;
};

export function PinInput(props: PinInputProps) {
  const { id, label, hint, autoComplete, reveal, inputRef, onInput, maxLength, problem, invalid, describedBy, answer } = props;
  const described = [hint ? `${id}-hint` : null, describedBy].filter(Boolean).join(" ");
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      )}
      <input
        id={id}
        type={reveal ? "text" : "password"}
        autoComplete={autoComplete}
        autoCapitalize="none"
        autoCorrect="off"
        spellcheck={false}
        maxLength={maxLength}
        onInput={onInput}
        aria-invalid={invalid ? "true" : "false"}
        aria-describedby={described || undefined}
        ref={inputRef}
      />
      <LiveProblem id={`${id}-problem`} text={problem} answer={answer} />
    </div>
  );
}

/** "Show PIN": the typed PINs as text, for people who mistype on a strange keyboard. */
export function ShowPin({ reveal, onChange }: { reveal: boolean; onChange: (reveal: boolean) => void }) {
  return (
    <label class="check">
      <input type="checkbox" checked={reveal} onChange={(event) => onChange(event.currentTarget.checked)} />
      Show PIN
    </label>
  );
}

/** The rules for a new PIN, ticked off while it is typed. */
export function PinChecklist({ rules, checks, change }: { rules: PinRules; checks: PinChecks; change?: boolean }) {
  const items: [boolean, string][] = [[checks.longEnough, `At least ${rules.minLength} characters`]];
  if (rules.refuseObvious) items.push([checks.notObvious, "Not an obvious one, like 123456 or 000000"]);
  if (change) items.push([checks.differs, "Not the PIN you have now"]);
  items.push([checks.bothMatch, "Both entries match"]);
  return (
    <div class="checklist-box">
      <p class="checklist-title" id="pin-rules-title">
        Your new PIN
      </p>
      <ul class="checklist" aria-labelledby="pin-rules-title">
        {items.map(([met, text]) => (
          <li key={text} class={met ? "met" : undefined}>
            <svg class="tick" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
              {met ? <path d="M5 12.5l4.5 4.5L19 7.5" /> : <circle cx="12" cy="12" r="4" />}
            </svg>
            <span>{text}</span>
            <span class="visually-hidden">{met ? ": done" : ": not yet"}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The state a PIN form keeps: whether PINs are shown, and the ticks. `refresh` recomputes
 * the ticks from the inputs; `reset` after the PINs are handed over.
 */
export function usePinForm(compute: () => PinChecks) {
  const [reveal, setReveal] = useState(false);
  const [checks, setChecks] = useState(NO_PIN_TYPED);
  return {
    reveal,
    setReveal,
    checks,
    refresh: () => setChecks(compute()),
    reset: () => setChecks(NO_PIN_TYPED),
  };
}

/** Takes each input's value, empties the input, and returns the values in order. */
export function takeValues(...inputs: (HTMLInputElement | null)[]): string[] {
  return inputs.map((input) => {
    const value = input?.value ?? "";
    if (input) input.value = "";
    return value;
  });
}

/**
 * Puts the cursor in the first field a problem is about, each time the Rust side answers
 * with one (after the screen's heading took focus, so the fix starts there).
 */
export function useFocusOnProblem(target: () => HTMLInputElement | null | undefined, step: { problem: unknown }) {
  useEffect(() => {
    if (step.problem) target()?.focus();
  }, [step]);
}

/** The PIN fields a screen can have, in the order they appear. */
export type PinFieldName = "current" | "new" | "again";

export const PIN_FIELD_IDS: Record<PinFieldName, string> = {
  current: "current-pin",
  new: "new-pin",
  again: "new-pin-again",
};

/** Where a problem shows (`at`), and which fields it makes invalid. */
export type ProblemPlace = { at: PinFieldName; invalid: PinFieldName[] };

/** The props tying one field to the problem (if any) the step carries. */
export function problemProps(field: PinFieldName, place: ProblemPlace | null, words: string | null) {
  const invalid = place?.invalid.includes(field) ?? false;
  return {
    problem: place?.at === field ? words : null,
    invalid,
    describedBy: invalid && place ? `${PIN_FIELD_IDS[place.at]}-problem` : null,
  };
}

type NewPinFieldsProps = {
  rules: PinRules;
  reveal: boolean;
  pinRef: Ref<HTMLInputElement>;
  againRef: Ref<HTMLInputElement>;
  onInput: () => void;
  againLabel: string;
  place: ProblemPlace | null;
  words: string | null;
  answer: unknown;
};

/** A new PIN and the same typed again: shared by choosing a PIN and changing one. */
export function NewPinFields(props: NewPinFieldsProps) {
  const { rules, reveal, pinRef, againRef, onInput, againLabel, place, words, answer } = props;
  return (
    <>
      <PinInput
        id={PIN_FIELD_IDS.new}
        label="New PIN"
        autoComplete="new-password"
        answer={answer}
        reveal={reveal}
        inputRef={pinRef}
        onInput={onInput}
        maxLength={rules.maxLength}
        {...problemProps("new", place, words)}
      />
      <PinInput
        id={PIN_FIELD_IDS.again}
        label={againLabel}
        autoComplete="new-password"
        answer={answer}
        reveal={reveal}
        inputRef={againRef}
        onInput={onInput}
        maxLength={rules.maxLength}
        {...problemProps("again", place, words)}
      />
    </>
  );
}
