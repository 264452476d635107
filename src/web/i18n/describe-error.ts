// Turns any failure into a sentence in the user's language: known error codes have their own message;
// an unknown code shows the server's own words (better than a vague "something went wrong").
import type { TFunction } from 'i18next';
import { ApiError } from '../api.ts';

const translatedCodes = ['invalid_credentials', 'network_error', 'csrf_invalid', 'forbidden', 'server_error', 'weak_password', 'wrong_password', 'invalid_totp', 'totp_enrolment_required'] as const;
type TranslatedCode = (typeof translatedCodes)[number];

function isTranslated(code: string): code is TranslatedCode {
  return (translatedCodes as readonly string[]).includes(code);
}

export function describeError(t: TFunction, error: unknown): string {
  if (!(error instanceof ApiError)) return t('errors.unknown');
  if (error.code === 'rate_limited') {
    return error.retryAfter !== undefined && error.retryAfter > 0
      ? t('errors.rate_limited_seconds', { count: error.retryAfter })
      : t('errors.rate_limited');
  }
  if (isTranslated(error.code)) return t(`errors.${error.code}`);
  if (error.status >= 500) return t('errors.server_error');
  return error.message || t('errors.unknown');
}
