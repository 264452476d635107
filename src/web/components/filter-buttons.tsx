// A row of toggle buttons that picks one filter of a list (Requests, My tasks): the chosen one is pressed.
export function FilterButtons<F extends string>({ label, filters, value, onChange, labelOf }: {
  label: string;
  filters: readonly F[];
  value: F;
  onChange: (filter: F) => void;
  labelOf: (filter: F) => string;
}) {
  return (
    <div class="toolbar" role="group" aria-label={label}>
      {filters.map((f) => (
        <button key={f} type="button" class={`btn btn-small${value === f ? ' btn-primary' : ''}`} aria-pressed={value === f} onClick={() => onChange(f)}>
          {labelOf(f)}
        </button>
      ))}
    </div>
  );
}
