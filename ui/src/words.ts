// What the app says to people. The Rust side decides what happened; this file decides how
// to say it. Every kind the Rust side can send must have words here, or the build fails.
import type { AddressProblem } from "./generated/ipc";

export function addressProblem(problem: AddressProblem): string {
  switch (problem.kind) {
    case "empty":
      return "Type your work email address to begin.";
    case "missingAt":
      return "Add the @ and your company's domain, like name@company.com.";
    case "moreThanOneAt":
      return "A work address has only one @. Check for an extra one.";
    case "missingName":
      return "Add your name before the @, like name@company.com.";
    case "missingDomain":
      return "Add your company's domain after the @, like name@company.com.";
    case "incompleteDomain":
      return "The part after the @ needs a dot, like company.com.";
    case "invalidCharacter":
      return problem.character === " "
        ? "Remove the space: work addresses have none."
        : `Work addresses cannot contain “${problem.character}”. Check for a typing mistake.`;
    case "misplacedDot":
      return "A dot cannot start or end your name, or follow another dot.";
    case "invalidDomain":
      return "The part after the @ is not a valid company domain. Check for a typing mistake.";
    case "tooLong":
      return "That address is too long to be a work address. Check for a typing mistake.";
    default:
      return unreachable(problem);
  }
}

function unreachable(value: never): never {
  throw new Error(`no words for ${JSON.stringify(value)}`);
}
