import { useEffect, useRef, useState } from "preact/hooks";
import type { DemoInfo } from "../generated/ipc";
import { ScreenHeading } from "../components/heading";
import { KeyAndPass } from "../components/pictures";
import type { ScreenProps } from "../components/screen";
import { addressProblem } from "../words";

export function Welcome({ step, send, demo }: ScreenProps<"welcome"> & { demo: DemoInfo | null }) {
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
    <div class={demo ? "welcome with-demo" : "welcome"}>
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
      {demo ? (
        <HandedOver
          demo={demo}
          use={() => {
            setTyped(demo.account);
            input.current?.focus();
          }}
        />
      ) : (
        <KeyAndPass />
      )}
    </div>
  );
}

/** Demo: what IT would hand over, an account and its Temporary Access Pass. */
function HandedOver({ demo, use }: { demo: DemoInfo; use: () => void }) {
  return (
    <section class="handed-over" aria-labelledby="handed-over-title">
      <h2 id="handed-over-title">Handed over by IT</h2>
      <p class="hint">In real life IT gives you these.</p>
      <dl>
        <dt>Work email address</dt>
        <dd class="demo-account">{demo.account}</dd>
        <dt>Temporary Access Pass</dt>
        <dd class="demo-pass">{demo.pass}</dd>
      </dl>
      <button type="button" class="secondary" onClick={use}>
        Use this account
      </button>
    </section>
  );
}
