import { Busy } from "../components/busy";

export function CheckingPin() {
  return (
    <Busy title="Checking your PIN…">
      <p class="lead">Your security key is checking it. This takes a moment.</p>
    </Busy>
  );
}
