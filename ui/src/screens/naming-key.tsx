import { useEffect, useRef, useState } from "preact/hooks";
import { ScreenHeading } from "../components/heading";
import { OneKey } from "../components/pictures";
import { LiveProblem } from "../components/problem";
import type { ScreenProps } from "../components/screen";
import { nameProblem } from "../words";

/** The longest name the Rust side takes, in characters. */
export const NAME_MAX = 30;

export function NamingKey({ step, send }: ScreenProps<"namingKey">) {
  const [name, setName] = useState(step.suggested);
  const problem = step.problem ? nameProblem(step.problem) : null;
  const input = useRef<HTMLInputElement>(null);
  const length = [...name].length;

  useEffect(() => {
    if (step.problem) input.current?.focus();
  }, [step]);

  const submit = (event: Event) => {
    event.preventDefault();
    send({ intent: "nameKey", name });
  };

  return (
    <div class="with-picture">
      <div class="text">
        <ScreenHeading>Give your key a name</ScreenHeading>
        <p class="lead">The name helps you and IT tell your keys apart. You can keep the one we suggest.</p>
        <form class="name-form" onSubmit={submit} noValidate>
          <label for="key-name">Name</label>
          <input
            id="key-name"
            type="text"
            autoComplete="off"
            maxLength={NAME_MAX}
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
            aria-invalid={problem ? "true" : "false"}
            aria-describedby="key-name-count key-name-problem"
            ref={input}
          />
          <p id="key-name-count" class="hint">
            {length} of {NAME_MAX} characters
          </p>
          <LiveProblem id="key-name-problem" text={problem} answer={step} />
          <button type="submit" class="primary">
            Register my key
          </button>
        </form>
      </div>
      <OneKey />
    </div>
  );
}
