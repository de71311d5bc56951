import type { Intent, WayForward } from "../generated/ipc";
import { ScreenHeading } from "../components/heading";
import { InsertKey } from "../components/pictures";
import type { ScreenProps } from "../components/screen";
import { cleanup, directoryMessage, failure as failureWords, unreachable, wayForward } from "../words";

export function Failed({ step, send }: ScreenProps<"failed">) {
  const { title, explanation } = failureWords(step.failure);
  const message = directoryMessage(step.failure);
  // The first way that is a button is the one to take; the others are quieter.
  const first = step.waysForward.find((way) => intentFor(way) !== null);
  return (
    <div class="single failed">
      <ScreenHeading>{title}</ScreenHeading>
      <p class="lead">{explanation}</p>
      {message && (
        <figure class="quote">
          <figcaption>Your organisation's answer:</figcaption>
          <blockquote>{message}</blockquote>
        </figure>
      )}
      {step.cleanup.length > 0 && (
        <ul class="tidied" aria-label="What we tidied up">
          {step.cleanup.map((done) => (
            <li key={done}>{cleanup(done)}</li>
          ))}
        </ul>
      )}
      <div class="ways">
        {step.waysForward.map((way) => {
          const intent = intentFor(way);
          const words = wayForward(way, step.failure);
          if (intent) {
            return (
              <button
                key={way}
                type="button"
                class={way === first ? "primary" : "secondary"}
                onClick={() => send(intent)}
              >
                {words}
              </button>
            );
          }
          return (
            <div key={way} class={`instruction way-${way}`}>
              {way === "reinsertKey" && <InsertKey small />}
              <p>{words}</p>
            </div>
          );
        })}
      </div>
    </div>
  );
}

/** The intent a way forward's button sends; null for a way that is an instruction. */
export function intentFor(way: WayForward): Intent | null {
  switch (way) {
    case "retry":
    case "signInAgain":
      return { intent: "retry" };
    case "startOver":
      return { intent: "startOver" };
    case "removeRegistration":
      return { intent: "removeRegistration" };
    case "reinsertKey":
    case "useAnotherKey":
    case "askIt":
      return null;
    default:
      return unreachable(way);
  }
}
