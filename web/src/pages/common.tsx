import { useEffect, useState } from 'preact/hooks';
import { call, type AclRule } from '../api';
import { ErrorText, Page } from '../ui';
import { AclEditor } from './acl-editor';

export function CommonPage() {
  const [rules, setRules] = useState<AclRule[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    call<{ acl: AclRule[] }>('GET', '/acl/common').then((r) => setRules(r.acl), setError);
  }, []);
  return (
    <Page title="Common rules">
      <p class="help">These rules apply to every device, after its own rules.</p>
      <ErrorText error={error} />
      {rules ? (
        <AclEditor
          label="Common rules"
          rules={rules}
          save={async (acl) =>
            setRules((await call<{ acl: AclRule[] }>('PUT', '/acl/common', { acl })).acl)
          }
        />
      ) : error ? null : (
        <p role="status">Loading…</p>
      )}
    </Page>
  );
}
