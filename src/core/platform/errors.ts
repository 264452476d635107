// Domain errors carry a stable snake_case code and, when one input is at fault, its field path.
// They know nothing of HTTP: src/server/errors.ts maps each class to a status.
export class DomainError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(code: string, message: string, field?: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}
/** The object does not exist, or the caller may not see it (never reveal which). */
export class NotFoundError extends DomainError {
  constructor(what: string) {
    super('not_found', `${what} not found`);
  }
}
/** Input is malformed (schema-level). */
export class InvalidInputError extends DomainError {}
/** Input is well-formed but breaks a business rule (e.g. a non-editable field). */
export class RuleError extends DomainError {}
/** The request conflicts with existing state (duplicate email, ...). */
export class ConflictError extends DomainError {}
/** The caller is signed in but lacks the role for this action. */
export class ForbiddenError extends DomainError {
  constructor(message = 'You do not have permission to do this', code = 'forbidden', field?: string) {
    super(code, message, field);
  }
}
/** A mail server said no: kept apart so the API can relay the server's own words. */
export class MailServerError extends DomainError {}
