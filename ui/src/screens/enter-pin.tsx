import { useRef, useState } from "preact/hooks";
import type { KeyDescription, PinProblem } from "../generated/ipc";
import { ScreenHeading } from "../components/heading";
import { OneKey } from "../components/pictures";
import { PinInput, ShowPin, takeValues, useFocusOnProblem } from "../components/pin";
import type { ScreenProps } from "../components/screen";
import { pinProblem, tries } from "../words";

/** From this many tries left, the screen warns before each one. */
export const FEW_TRIES = 3;

export function EnterPin({ step, send }: ScreenProps<"enterPin">) {
  const pin = useRef<HTMLInputElement>(null);
  const [reveal, setReveal] = useState(false);
  const problem = step.problem ? pinProblem(step.problem, "current") : null;
  const left = triesLeft(step.key, step.problem);
  // The tries left are said once: by the problem under the field after a wrong PIN, else
  // by a warning before the field when few are left, else by the field's hint.
  const saidByProblem = step.problem?.kind === "wrong";
  const warn = left !== null && left <= FEW_TRIES && !saidByProblem;
  useFocusOnProblem(() => pin.current, step);

  const submit = (event: Event) => {
    event.preventDefault();
    const [typed = ""] = takeValues(pin.current);
    send({ intent: "enterPin", pin: typed });
  };

  return (
    <div class="with-picture">
      <div class="text">
        <ScreenHeading>Type your key's PIN</ScreenHeading>
        <p class="lead">
          Your <span class="model">{step.key.model}</span> already has a PIN. Type it to carry on.
        </p>
        {warn && (
          <p class="notice warning" id="pin-tries">
            Careful: only {tries(left ?? 0)} left. After that the key locks and must be wiped.
          </p>
        )}
        <form class="pin-form" onSubmit={submit} noValidate>
          <PinInput
            id="pin"
            label="PIN"
            hint={left !== null && left > FEW_TRIES && !saidByProblem ? `${tries(left)} left before the key locks.` : undefined}
            autoComplete="off"
            answer={step}
            reveal={reveal}
            inputRef={pin}
            problem={problem}
            invalid={problem !== null}
            describedBy={[problem ? "pin-problem" : null, warn ? "pin-tries" : null].filter(Boolean).join(" ") || null}
          />
          <div class="form-actions">
            <button type="submit" class="primary">
              Continue
            </button>
            <ShowPin reveal={reveal} onChange={setReveal} />
          </div>
        </form>
      </div>
      <OneKey />
    </div>
  );
}

/** Tries left: what the last wrong PIN said, or what the key said when it was found. */
function triesLeft(key: KeyDescription, problem: PinProblem | null): number | null {
  if (problem?.kind === "wrong") return problem.retriesLeft;
  switch (key.pin.state) {
    case "set":
    case "changeRequired":
    case "reinsertNeeded":
      return key.pin.retries;
    case "notSet":
    case "blocked":
      return null;
  }
}
