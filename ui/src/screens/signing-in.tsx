import { ScreenHeading } from "../components/heading";
import { SignInWindow, Waiting } from "../components/pictures";
import type { ScreenProps } from "../components/screen";

export function SigningIn({ step, send }: ScreenProps<"signingIn">) {
  const site = step.url ? siteOf(step.url) : null;
  return (
    <div class="with-picture">
      <div class="text">
        <ScreenHeading>Sign in in the window that opened</ScreenHeading>
        <p class="lead">
          Sign in as <strong class="account">{step.account}</strong>.
        </p>
        <p>Type your Temporary Access Pass there. tap2key never sees it.</p>
        {step.url === null ? (
          <p class="working" role="status">
            <Waiting />
            Opening the sign-in page…
          </p>
        ) : (
          <p class="hint">
            We'll carry on here by ourselves once you have signed in.
            {site && (
              <>
                {" "}
                The page comes from <span class="site">{site}</span>.
              </>
            )}
          </p>
        )}
        <div class="actions">
          <button type="button" class="secondary" onClick={() => send({ intent: "cancel" })}>
            Cancel
          </button>
        </div>
      </div>
      <SignInWindow />
    </div>
  );
}

/** The host a sign-in page comes from, for the person to check; null if unreadable. */
function siteOf(url: string): string | null {
  try {
    return new URL(url).host || null;
  } catch {
    return null;
  }
}
