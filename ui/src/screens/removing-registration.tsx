import { Busy } from "../components/busy";

export function RemovingRegistration() {
  return (
    <Busy title="Taking the registration back…">
      <p class="lead">Your organisation is removing the key from your account.</p>
    </Busy>
  );
}
