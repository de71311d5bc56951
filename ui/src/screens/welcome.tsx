import { useEffect, useRef, useState } from "preact/hooks";
import type { Intent, Step } from "../generated/ipc";
import { ScreenHeading } from "../components/heading";
import { KeyAndPass } from "../components/pictures";
import { addressProblem } from "../words";

type Props = { step: Extract<Step, { step: "welcome" }>; send: (intent: Intent) => void };

export function Welcome({ step, send }: Props) {
  const [typed, setTyped] = useState(step.typed);
  const problem = step.problem ? addressProblem(step.problem) : null;
  const input = useRef<HTMLInputElement>(null);

  // Each answer with a problem puts the cursor back in the field, ready for the fix.
  useEffect(() => {
    if (step.problem) input.current?.focus();
  }, [step]);

  const submit = (event: Event) => {
    event.preventDefault();
    send({ intent: "submitWorkAddress", address: typed });
  };

  return (
    <div class="welcome">
      <div class="welcome-text">
        <ScreenHeading>Set up your security key</ScreenHeading>
        <p class="lead">
          Have your <strong>security key</strong> and the <strong>Temporary Access Pass</strong> from IT ready.
          It takes about three minutes.
        </p>
        <ol class="steps" aria-label="What happens">
          <li>Sign in with your Temporary Access Pass</li>
          <li>Protect your key with a PIN</li>
          <li>Test that your key works</li>
        </ol>
        <form class="address-form" onSubmit={submit} noValidate>
          <label for="work-address">Your work email address</label>
          <p id="work-address-hint" class="hint">
            For example, name@company.com
          </p>
          <input
            id="work-address"
            name="username"
            type="email"
            inputMode="email"
            autoComplete="username"
            autoCapitalize="none"
            spellcheck={false}
            value={typed}
            onInput={(event) => setTyped(event.currentTarget.value)}
            aria-invalid={problem ? "true" : "false"}
            aria-describedby="work-address-hint work-address-problem"
            ref={input}
          />
          <p id="work-address-problem" class="problem" aria-live="assertive">
            {problem}
          </p>
          <button type="submit" class="primary">
            Continue
          </button>
        </form>
      </div>
      <KeyAndPass />
    </div>
  );
}
