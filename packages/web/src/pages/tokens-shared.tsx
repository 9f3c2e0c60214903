import { useState } from 'preact/hooks';

import { ApiError } from '../api';
import { ConfirmDialog, CopyButton, DateTime, ErrorMessage } from '../components';

export interface TokenRow {
  id: number;
  name: string;
  scopes: string[];
  expires_at: string | null;
  created_at?: string;
  last_used_at?: string | null;
  revoked?: boolean;
  active?: boolean;
  expired?: boolean;
  username?: string;
}

/** A create form: name, scope checkboxes, an optional expiry date. */
export function TokenForm({
  scopes,
  submitLabel,
  onCreate,
}: {
  scopes: readonly string[];
  submitLabel: string;
  onCreate: (body: { name: string; scopes: string[]; expires_at?: string }) => Promise<void>;
}) {
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="token-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!chosen.length) {
          setError('Choose at least one scope');
          return;
        }
        setBusy(true);
        setError(null);
        onCreate({ name: name.trim(), scopes: chosen, ...(expires ? { expires_at: expires } : {}) }).then(
          () => {
            setBusy(false);
            setName('');
            setChosen([]);
            setExpires('');
          },
          (err: unknown) => {
            setBusy(false);
            setError(err instanceof ApiError ? err.message : String(err));
          },
        );
      }}
    >
      <label>
        Token name
        <input type="text" name="name" required maxLength={255} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Expiration date (optional)
        <input
          type="date"
          name="expires_at"
          min={new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}
          value={expires}
          onInput={(e) => setExpires(e.currentTarget.value)}
        />
      </label>
      <fieldset>
        <legend>Scopes</legend>
        {scopes.map((s) => (
          <label class="checkbox" key={s}>
            <input
              type="checkbox"
              name="scopes"
              value={s}
              checked={chosen.includes(s)}
              onChange={(e) => setChosen((c) => (e.currentTarget.checked ? [...c, s] : c.filter((x) => x !== s)))}
            />
            {s}
          </label>
        ))}
      </fieldset>
      <ErrorMessage error={error} />
      <button type="submit" class="primary" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}

/** The secret of a token just created: shown once, with a copy button. */
export function NewToken({ label, token, onDismiss }: { label: string; token: string; onDismiss: () => void }) {
  return (
    <div class="new-token" role="status">
      <p>
        <strong>{label}</strong> Copy it now: it will not be shown again.
      </p>
      <div class="token-value">
        <input type="text" readOnly value={token} aria-label={label} onFocus={(e) => e.currentTarget.select()} />
        <CopyButton text={token} />
        <button type="button" onClick={onDismiss}>
          Done
        </button>
      </div>
    </div>
  );
}

export function TokenTable({
  tokens,
  onRevoke,
  caption,
}: {
  tokens: TokenRow[];
  onRevoke: (t: TokenRow) => Promise<void>;
  caption: string;
}) {
  const [pending, setPending] = useState<TokenRow | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!tokens.length) return <p class="empty">No tokens.</p>;
  return (
    <>
      <ErrorMessage error={error} />
      <div class="table-wrap">
        <table class="tokens">
          <caption class="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Scopes</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => {
              const live = !t.revoked && t.active !== false && !t.expired;
              return (
                <tr key={t.id}>
                  <td data-label="Name">{t.name}</td>
                  <td data-label="Scopes">{t.scopes.join(', ')}</td>
                  <td data-label="Expires">{t.expires_at ? <DateTime value={t.expires_at} /> : 'Never'}</td>
                  <td data-label="State">{t.revoked ? 'Revoked' : t.expired || t.active === false ? 'Expired' : 'Active'}</td>
                  <td>
                    {live && (
                      <button type="button" class="danger small" aria-label={`Revoke ${t.name}`} onClick={() => setPending(t)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <ConfirmDialog
        open={pending !== null}
        title="Revoke token?"
        confirmLabel="Revoke"
        onCancel={() => setPending(null)}
        onConfirm={() => {
          const t = pending!;
          setPending(null);
          setError(null);
          onRevoke(t).catch((err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
        }}
      >
        <p>Anything using “{pending?.name}” will stop working at once.</p>
      </ConfirmDialog>
    </>
  );
}
