// A tsvector column written from a literal the application built ("'term':1,4 'other':2", see
// search-terms.ts). MikroORM's own full-text type would run that literal through to_tsvector again
// and index its quotes and positions as words.
import { raw, Type, type Platform, type TransformContext } from '@mikro-orm/core';

export class TsvectorLiteralType extends Type<string | null, string | null> {
  override getColumnType(): string {
    return 'tsvector';
  }

  override convertToDatabaseValue(value: string | null, _platform: Platform, context?: TransformContext): string | null {
    if (value === null || (typeof context === 'object' && context?.fromQuery)) return value;
    return raw('?::tsvector', [value]) as unknown as string;
  }
}
