import { ScreenHeading } from "../components/heading";
import { KeyReady } from "../components/pictures";
import type { ScreenProps } from "../components/screen";

export function Done({ step, send, kiosk }: ScreenProps<"done"> & { kiosk: boolean }) {
  const { key } = step;
  return (
    <div class="with-picture done">
      <div class="text">
        <ScreenHeading>Your security key is ready</ScreenHeading>
        <dl class="facts">
          <div>
            <dt>Name</dt>
            <dd class="key-name">{key.name}</dd>
          </div>
          {key.model && (
            <div>
              <dt>Model</dt>
              <dd class="model">{key.model}</dd>
            </div>
          )}
          <div>
            <dt>Test sign-in</dt>
            <dd>Worked, tested just now</dd>
          </div>
        </dl>
        <p>
          Next time you sign in, choose <strong>“Sign in with a security key”</strong>, insert it and touch it.
        </p>
        <p>{kiosk ? "Unplug your key and take it with you. Keep it on your keyring." : "Keep it on your keyring."}</p>
        <div class="actions">
          <button type="button" class="primary" onClick={() => send({ intent: "startOver" })}>
            {kiosk ? "Finish – next person" : "Finish"}
          </button>
        </div>
      </div>
      <KeyReady />
    </div>
  );
}
