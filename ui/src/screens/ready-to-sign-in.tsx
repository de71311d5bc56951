import type { Intent, Step } from "../generated/ipc";
import { ScreenHeading } from "../components/heading";

type Props = { step: Extract<Step, { step: "readyToSignIn" }>; send: (intent: Intent) => void };

export function ReadyToSignIn({ step, send }: Props) {
  return (
    <div class="single">
      <ScreenHeading>Next, sign in</ScreenHeading>
      <p class="lead">
        You will sign in as <strong class="account">{step.account}</strong>.
      </p>
      <p>
        Your organisation's own sign-in page asks for your Temporary Access Pass. You type it there: tap2key never
        sees it.
      </p>
      <p class="notice" role="status">
        Signing in is not available in this build yet.
      </p>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => send({ intent: "changeWorkAddress" })}>
          Use a different address
        </button>
      </div>
    </div>
  );
}
