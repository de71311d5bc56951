import { Busy } from "../components/busy";
import type { ScreenProps, TouchKey } from "../components/screen";
import { TouchNow } from "../components/touch";

export function TestSignIn({ step, send, touchKey }: ScreenProps<"testSignIn"> & { touchKey: TouchKey }) {
  if (!step.touch) {
    return (
      <Busy title="Getting your key ready…">
        <p class="lead">Next, a test sign-in checks that your key works.</p>
      </Busy>
    );
  }
  return (
    <TouchNow title="One more touch to check your key works" touchKey={touchKey} onCancel={() => send({ intent: "cancel" })}>
      <p class="lead">Touch your security key now.</p>
      <p>This signs you in once, as a test. No PIN needed this time.</p>
    </TouchNow>
  );
}
