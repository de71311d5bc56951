import { ScreenHeading } from "../components/heading";
import { SignInWindow } from "../components/pictures";
import type { ScreenProps } from "../components/screen";

export function ReadyToSignIn({ step, send }: ScreenProps<"readyToSignIn">) {
  return (
    <div class="with-picture">
      <div class="text">
        <ScreenHeading>Next, sign in</ScreenHeading>
        <p class="lead">
          You will sign in as <strong class="account">{step.account}</strong>.
        </p>
        <p>
          Your organisation's own sign-in page opens in a new window. Type your Temporary Access Pass there: tap2key
          never sees it.
        </p>
        <div class="actions">
          <button type="button" class="primary" onClick={() => send({ intent: "signIn" })}>
            Sign in
          </button>
          <button type="button" class="secondary" onClick={() => send({ intent: "changeWorkAddress" })}>
            Use a different address
          </button>
        </div>
      </div>
      <SignInWindow />
    </div>
  );
}
