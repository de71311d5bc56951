import { ScreenHeading } from "../components/heading";
import { OneKey } from "../components/pictures";
import type { ScreenProps } from "../components/screen";
import { pinState } from "../words";

export function KeyFound({ step, send }: ScreenProps<"keyFound">) {
  const { key } = step;
  const slots = key.freePasskeySlots;
  return (
    <div class="with-picture">
      <div class="text">
        <ScreenHeading>We found your security key</ScreenHeading>
        <dl class="facts">
          <div>
            <dt>Model</dt>
            <dd class="model">{key.model}</dd>
          </div>
          <div>
            <dt>PIN</dt>
            <dd class="pin-state">{pinState(key.pin)}</dd>
          </div>
          {slots !== null && (
            <div>
              <dt>Room</dt>
              <dd class="slots">
                {slots === 0
                  ? "No room for another passkey."
                  : `Room for ${slots === 1 ? "1 more passkey" : `${slots} more passkeys`}.`}
              </dd>
            </div>
          )}
        </dl>
        <div class="actions">
          <button type="button" class="primary" onClick={() => send({ intent: "useKey" })}>
            Continue
          </button>
        </div>
      </div>
      <OneKey />
    </div>
  );
}
