import { Busy } from "../components/busy";
import { ScreenHeading } from "../components/heading";
import { InsertKey, SeveralKeys } from "../components/pictures";
import type { ScreenProps, TouchKey } from "../components/screen";
import { TouchNow } from "../components/touch";

export function FindingKey({ step, touchKey }: ScreenProps<"findingKey"> & { touchKey: TouchKey }) {
  if (step.keys === 0) {
    return (
      <div class="with-picture">
        <div class="text">
          <ScreenHeading>Insert your security key</ScreenHeading>
          <p class="lead">Plug it into a USB port on this computer.</p>
          <p class="hint">We'll notice it by ourselves and carry on.</p>
        </div>
        <InsertKey />
      </div>
    );
  }
  if (step.keys === 1) return <Busy title="Reading your security key…" />;
  if (step.touch) {
    return (
      <TouchNow title="Several keys are plugged in" touchKey={touchKey} picture={<SeveralKeys touch />} countdown={false}>
        <p class="lead">Touch the one you want to set up.</p>
      </TouchNow>
    );
  }
  return (
    <div class="with-picture">
      <div class="text">
        <ScreenHeading>Several keys are plugged in</ScreenHeading>
        <p class="lead">In a moment, touch the one you want to set up.</p>
      </div>
      <SeveralKeys touch={false} />
    </div>
  );
}
