// The light rich-text editor of compose: bold, italic, lists and links on a contenteditable area through
// the browser's own editing commands (no library: a few KB less on every load). Pasting inserts plain
// text, so foreign markup never enters a message; the server sanitises the HTML again before sending.
import { useRef, useState } from 'preact/hooks';
import { useI18n } from '../i18n/context.tsx';
import { MailIcon } from './message-icons.tsx';

export type EditorValue = { html: string; text: string };

const safeLink = /^(https?:\/\/|mailto:)/i;

export function ComposeEditor({ id, labelledBy, onChange }: { id: string; labelledBy: string; onChange: (value: EditorValue) => void }) {
  const { t } = useI18n();
  const area = useRef<HTMLDivElement>(null);
  const saved = useRef<Range | null>(null);
  const [linking, setLinking] = useState(false);
  const [url, setUrl] = useState('https://');
  const [linkError, setLinkError] = useState(false);

  const emit = () => {
    const el = area.current;
    if (!el) return;
    const text = el.innerText.replace(/\u00a0/g, ' ');
    onChange({ html: text.trim() ? el.innerHTML : '', text });
  };

  // Where the caret was in the editor, so a toolbar command applies there even if focus left meanwhile.
  const caret = useRef<Range | null>(null);
  const rememberCaret = () => {
    const selection = window.getSelection();
    if (selection && selection.rangeCount > 0 && area.current?.contains(selection.anchorNode)) caret.current = selection.getRangeAt(0).cloneRange();
  };
  const restoreCaret = () => {
    const el = area.current;
    if (!el) return;
    el.focus();
    const selection = window.getSelection();
    if (!selection || (selection.rangeCount > 0 && el.contains(selection.anchorNode))) return;
    selection.removeAllRanges();
    if (caret.current) selection.addRange(caret.current);
    else {
      const end = document.createRange();
      end.selectNodeContents(el);
      end.collapse(false);
      selection.addRange(end);
    }
  };

  const run = (command: string, value?: string) => {
    restoreCaret();
    // execCommand is deprecated on paper but it is what every browser's editing undo stack understands.
    document.execCommand(command, false, value);
    emit();
  };

  const startLink = () => {
    const selection = window.getSelection();
    saved.current = selection && selection.rangeCount > 0 && area.current?.contains(selection.anchorNode) ? selection.getRangeAt(0).cloneRange() : null;
    setLinkError(false);
    setLinking(true);
  };

  const applyLink = () => {
    const href = url.trim();
    if (!safeLink.test(href)) {
      setLinkError(true);
      return;
    }
    area.current?.focus();
    const selection = window.getSelection();
    if (saved.current && selection) {
      selection.removeAllRanges();
      selection.addRange(saved.current);
    }
    if (selection && !selection.isCollapsed) document.execCommand('createLink', false, href);
    else document.execCommand('insertHTML', false, `<a href="${href.replace(/"/g, '&quot;').replace(/</g, '&lt;')}">${href.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</a>`);
    setLinking(false);
    setUrl('https://');
    emit();
  };

  const onPaste = (event: ClipboardEvent) => {
    event.preventDefault();
    document.execCommand('insertText', false, event.clipboardData?.getData('text/plain') ?? '');
    emit();
  };

  const tool = (label: string, command: string, glyph: string, value?: string) => (
    <button type="button" class="editor-tool" aria-label={label} title={label} onMouseDown={(e) => e.preventDefault()} onClick={() => run(command, value)}>
      <span aria-hidden="true">{glyph}</span>
    </button>
  );

  return (
    <div class="editor">
      <div class="editor-toolbar" role="toolbar" aria-label={t('compose.formatting')} aria-controls={id}>
        {tool(t('compose.bold'), 'bold', 'B')}
        {tool(t('compose.italic'), 'italic', 'I')}
        {tool(t('compose.bulletList'), 'insertUnorderedList', '•')}
        {tool(t('compose.numberedList'), 'insertOrderedList', '1.')}
        <button type="button" class="editor-tool" aria-label={t('compose.link')} title={t('compose.link')} aria-expanded={linking} onMouseDown={(e) => e.preventDefault()} onClick={startLink}>
          <MailIcon name="link" size={16} />
        </button>
      </div>
      {linking && (
        <div class="editor-link">
          <label for={`${id}-link`}>{t('compose.linkAddress')}</label>
          <input
            id={`${id}-link`}
            type="text"
            inputMode="url"
            value={url}
            autoFocus
            aria-invalid={linkError || undefined}
            onInput={(e) => setUrl(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                applyLink();
              }
              if (e.key === 'Escape') {
                e.preventDefault();
                setLinking(false);
                area.current?.focus();
              }
            }}
          />
          <button type="button" class="btn" onClick={applyLink}>
            {t('compose.linkApply')}
          </button>
          {linkError && <p class="field-error">{t('compose.linkInvalid')}</p>}
        </div>
      )}
      <div
        id={id}
        ref={area}
        class="editor-area"
        contentEditable
        role="textbox"
        aria-multiline="true"
        aria-labelledby={labelledBy}
        spellcheck
        onInput={() => {
          rememberCaret();
          emit();
        }}
        onKeyUp={rememberCaret}
        onMouseUp={rememberCaret}
        onBlur={rememberCaret}
        onPaste={onPaste}
      />
    </div>
  );
}
