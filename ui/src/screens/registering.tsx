import { Busy } from "../components/busy";
import type { ScreenProps } from "../components/screen";

export function Registering({ step }: ScreenProps<"registering">) {
  return (
    <Busy title={`Registering “${step.name}” with your organisation…`}>
      <p class="lead">After that, one more touch checks that your key works.</p>
    </Busy>
  );
}
