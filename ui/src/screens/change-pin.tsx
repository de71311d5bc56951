import { useRef, useState } from "preact/hooks";
import type { PinProblem } from "../generated/ipc";
import { ScreenHeading } from "../components/heading";
import {
  NewPinFields,
  PIN_FIELD_IDS,
  PinChecklist,
  PinInput,
  ShowPin,
  problemProps,
  takeValues,
  useFocusOnProblem,
  usePinForm,
  type ProblemPlace,
} from "../components/pin";
import type { ScreenProps } from "../components/screen";
import { checkPins } from "../pin-checks";
import { pinProblem } from "../words";

/** Any key's shortest PIN (CTAP 2), and its longest in bytes. */
const ANY_KEY_MIN = 4;
const ANY_KEY_MAX_BYTES = 63;

/**
 * How the current PIN looked when it was sent: "empty" and "too short" answers can be
 * about either PIN, and the Rust side checks the current one first. Not the PIN itself.
 */
type CurrentLooked = "empty" | "short" | "long" | "fine";

export function ChangePin({ step, send }: ScreenProps<"changePin">) {
  const current = useRef<HTMLInputElement>(null);
  const pin = useRef<HTMLInputElement>(null);
  const again = useRef<HTMLInputElement>(null);
  const [currentLooked, setCurrentLooked] = useState<CurrentLooked>("fine");
  const form = usePinForm(() =>
    checkPins(step.rules, pin.current?.value ?? "", again.current?.value ?? "", current.current?.value ?? ""),
  );
  const place = step.problem ? placeProblem(step.problem, currentLooked) : null;
  const words = step.problem ? pinProblem(step.problem, place?.at === "current" ? "current" : "new") : null;
  // Every field was emptied when the PINs were sent: the fix starts at the first.
  useFocusOnProblem(() => current.current, step);

  const submit = (event: Event) => {
    event.preventDefault();
    const [now = "", chosen = "", repeated = ""] = takeValues(current.current, pin.current, again.current);
    setCurrentLooked(looks(now));
    form.reset();
    send({ intent: "changePin", current: now, new: chosen, again: repeated });
  };

  return (
    <div class="pin-screen">
      <div class="pin-head">
        <ScreenHeading>Choose a new PIN for your key</ScreenHeading>
        <p class="lead">
          Your <span class="model">{step.key.model}</span> asks for a new PIN before it can be used.
        </p>
      </div>
      <form class="pin-form" onSubmit={submit} noValidate>
        <PinInput
          id={PIN_FIELD_IDS.current}
          label="PIN it has now"
          autoComplete="off"
          answer={step}
          reveal={form.reveal}
          inputRef={current}
          onInput={form.refresh}
          {...problemProps("current", place, words)}
        />
        <NewPinFields
          rules={step.rules}
          reveal={form.reveal}
          pinRef={pin}
          againRef={again}
          onInput={form.refresh}
          againLabel="Type the new PIN again"
          place={place}
          words={words}
          answer={step}
        />
        <div class="form-actions">
          <button type="submit" class="primary">
            Change PIN
          </button>
          <ShowPin reveal={form.reveal} onChange={form.setReveal} />
        </div>
      </form>
      <PinChecklist rules={step.rules} checks={form.checks} change />
    </div>
  );
}

function looks(pin: string): CurrentLooked {
  if (pin.length === 0) return "empty";
  if ([...pin].length < ANY_KEY_MIN) return "short";
  if (new TextEncoder().encode(pin).length > ANY_KEY_MAX_BYTES) return "long";
  return "fine";
}

function placeProblem(problem: PinProblem, currentLooked: CurrentLooked): ProblemPlace {
  const current: ProblemPlace = { at: "current", invalid: ["current"] };
  const fresh: ProblemPlace = { at: "new", invalid: ["new"] };
  switch (problem.kind) {
    case "wrong":
      return current;
    case "empty":
      return currentLooked === "empty" ? current : fresh;
    case "tooShort":
      return currentLooked === "empty" || currentLooked === "short" ? current : fresh;
    case "tooLong":
      return currentLooked === "long" ? current : fresh;
    case "mismatch":
      return { at: "again", invalid: ["new", "again"] };
    case "sameAsCurrent":
      return { at: "new", invalid: ["current", "new"] };
    case "tooObvious":
    case "refusedByKey":
      return fresh;
  }
}
