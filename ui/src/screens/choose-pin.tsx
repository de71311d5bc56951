import { useRef } from "preact/hooks";
import type { PinProblem } from "../generated/ipc";
import { ScreenHeading } from "../components/heading";
import {
  NewPinFields,
  PinChecklist,
  ShowPin,
  takeValues,
  useFocusOnProblem,
  usePinForm,
  type ProblemPlace,
} from "../components/pin";
import type { ScreenProps } from "../components/screen";
import { checkPins } from "../pin-checks";
import { pinProblem } from "../words";

export function ChoosePin({ step, send }: ScreenProps<"choosePin">) {
  const pin = useRef<HTMLInputElement>(null);
  const again = useRef<HTMLInputElement>(null);
  const form = usePinForm(() => checkPins(step.rules, pin.current?.value ?? "", again.current?.value ?? ""));
  const place = step.problem ? placeProblem(step.problem) : null;
  const words = step.problem ? pinProblem(step.problem) : null;
  // Both fields were emptied when the PIN was sent: the fix starts at the first.
  useFocusOnProblem(() => pin.current, step);

  const submit = (event: Event) => {
    event.preventDefault();
    const [chosen = "", repeated = ""] = takeValues(pin.current, again.current);
    form.reset();
    send({ intent: "choosePin", pin: chosen, again: repeated });
  };

  return (
    <div class="pin-screen">
      <div class="pin-head">
        <ScreenHeading>Choose a PIN for your key</ScreenHeading>
        <p class="lead">
          You'll type it each time you sign in with your <span class="model">{step.key.model}</span>. Pick one you
          will remember.
        </p>
      </div>
      <form class="pin-form" onSubmit={submit} noValidate>
        <NewPinFields
          rules={step.rules}
          reveal={form.reveal}
          pinRef={pin}
          againRef={again}
          onInput={form.refresh}
          againLabel="Type it again"
          place={place}
          words={words}
          answer={step}
        />
        <div class="form-actions">
          <button type="submit" class="primary">
            Set PIN
          </button>
          <ShowPin reveal={form.reveal} onChange={form.setReveal} />
        </div>
      </form>
      <PinChecklist rules={step.rules} checks={form.checks} />
    </div>
  );
}

function placeProblem(problem: PinProblem): ProblemPlace {
  return problem.kind === "mismatch" ? { at: "again", invalid: ["new", "again"] } : { at: "new", invalid: ["new"] };
}
