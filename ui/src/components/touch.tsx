import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { CommandError } from "../generated/ipc";
import { commandError, seconds } from "../words";
import { ScreenHeading } from "./heading";
import { TouchKey as TouchPicture } from "./pictures";
import type { TouchKey } from "./screen";

/** How long a key waits for a touch (CTAP's usual 30 seconds), counted from when it asks. */
export const TOUCH_SECONDS = 30;

type Props = {
  title: string;
  children: ComponentChildren;
  touchKey: TouchKey;
  /** Stops the wait; absent where the step offers no way out. */
  onCancel?: () => void;
  picture?: ComponentChildren;
  /** Shows the seconds left (a key waits about 30 for a touch). */
  countdown?: boolean;
};

/**
 * "Touch your key now": a glowing picture, a countdown, and, in the demo, a button that
 * touches the virtual key. Mounted when the key starts waiting, so the count starts then.
 */
export function TouchNow({ title, children, touchKey, onCancel, picture, countdown = true }: Props) {
  const left = useCountdown(TOUCH_SECONDS);
  const [trouble, setTrouble] = useState<string | null>(null);

  const touch = () => {
    setTrouble(null);
    touchKey?.().catch((error: unknown) =>
      setTrouble(isCommandError(error) ? commandError(error) : "The on-screen key did not answer. Try again."),
    );
  };

  return (
    <div class="with-picture touch-now">
      <div class="text">
        <ScreenHeading>{title}</ScreenHeading>
        {children}
        {countdown && (
          <p class="countdown" role="timer">
            {left > 0 ? `About ${seconds(left)} left.` : "Still waiting for your touch."}
          </p>
        )}
        {(touchKey || onCancel) && (
          <div class="actions">
            {touchKey && (
              <button type="button" class="primary touch-button" onClick={touch}>
                Touch the key
              </button>
            )}
            {onCancel && (
              <button type="button" class="secondary" onClick={onCancel}>
                Cancel
              </button>
            )}
          </div>
        )}
        {touchKey && (
          <p class="hint">This demo's key is on screen: the button above stands in for your finger.</p>
        )}
        {trouble && (
          <p class="problem" role="alert">
            {trouble}
          </p>
        )}
      </div>
      {picture ?? <TouchPicture />}
    </div>
  );
}

/** Seconds left, from `start` down to 0, one a second. */
function useCountdown(start: number): number {
  const [left, setLeft] = useState(start);
  useEffect(() => {
    const tick = setInterval(() => setLeft((n) => Math.max(0, n - 1)), 1000);
    return () => clearInterval(tick);
  }, []);
  return left;
}

function isCommandError(error: unknown): error is CommandError {
  return typeof error === "object" && error !== null && (error as CommandError).kind === "noVirtualKey";
}
