// The provider form's rules (M1): security fills the usual port and a usual port picks its
// security — without undoing a choice the port fits; Exchange needs load or send; OAuth needs its
// client ID and secret; the form maps to the API body and server fields back to the form.
import { describe, expect, it } from 'vitest';
import { emptyForm, formField, fromProvider, portForSecurity, securityForPort, securityForPortChange, toBody, validate, type Provider, type ProviderForm } from '../../web/src/pages/admin/providerModel.js';

const form = (p: Partial<ProviderForm> = {}): ProviderForm => ({ ...emptyForm, name: 'Acme', imapHost: 'imap.acme.test', smtpHost: 'smtp.acme.test', ...p });

describe('ports and security', () => {
  it('fills the usual port for a security', () => {
    expect([portForSecurity('imap', 'ssl'), portForSecurity('imap', 'starttls'), portForSecurity('imap', 'none')]).toEqual([993, 143, 143]);
    expect([portForSecurity('smtp', 'ssl'), portForSecurity('smtp', 'starttls'), portForSecurity('smtp', 'none')]).toEqual([465, 587, 25]);
  });

  it('reads the security a usual port implies; 455 is the vendor typo for 465; odd ports imply nothing', () => {
    expect(securityForPort('imap', 993)).toBe('ssl');
    expect(securityForPort('imap', 143)).toBe('starttls');
    expect(securityForPort('smtp', 455)).toBe('ssl');
    expect(securityForPort('smtp', 587)).toBe('starttls');
    expect(securityForPort('smtp', 25)).toBe('none');
    expect(securityForPort('imap', 10143)).toBeNull();
  });

  it('keeps "None" when the port is 143 (the port None just filled in)', () => {
    expect(securityForPortChange('imap', portForSecurity('imap', 'none'), 'none')).toBe('none');
    expect(securityForPortChange('imap', 143, 'starttls')).toBe('starttls');
    expect(securityForPortChange('smtp', 25, 'none')).toBe('none');
  });

  it('switches to the security a usual port implies when the current one does not fit it', () => {
    expect(securityForPortChange('imap', 993, 'none')).toBe('ssl');
    expect(securityForPortChange('imap', 143, 'ssl')).toBe('starttls');
    expect(securityForPortChange('smtp', 465, 'starttls')).toBe('ssl');
    expect(securityForPortChange('smtp', 587, 'ssl')).toBe('starttls');
  });

  it('keeps the security for an unusual port', () => {
    expect(securityForPortChange('imap', 10143, 'none')).toBe('none');
    expect(securityForPortChange('smtp', 2525, 'starttls')).toBe('starttls');
  });
});

describe('validation', () => {
  it('accepts a complete IMAP/SMTP form', () => {
    expect(validate(form())).toEqual({});
  });

  it('requires name, hosts and ports in range', () => {
    expect(validate(form({ name: ' ', imapHost: '', smtpHost: '', imapPort: 0, smtpPort: 70000 }))).toEqual({ name: 'v.required', imapHost: 'v.required', smtpHost: 'v.required', imapPort: 'v.port', smtpPort: 'v.port' });
    expect(validate(form({ imapPort: '' })).imapPort).toBe('v.port');
  });

  it('refuses Exchange with neither load nor send', () => {
    const ex = form({ type: 'exchange', exchangeHost: 'outlook.office365.com' });
    expect(validate(ex)).toEqual({});
    expect(validate({ ...ex, loadEmails: false })).toEqual({});
    expect(validate({ ...ex, loadEmails: false, sendEmails: false })).toEqual({ loadEmails: 'v.loadOrSend' });
    expect(validate({ ...ex, exchangeHost: '' }).exchangeHost).toBe('v.required');
  });

  it('requires the OAuth client ID and a secret unless one is stored', () => {
    expect(validate(form({ authMethod: 'oauth2' }))).toEqual({ oauthClientId: 'v.required', oauthClientSecret: 'v.required' });
    expect(validate(form({ authMethod: 'oauth2', oauthClientId: 'id', hasSecret: true }))).toEqual({});
  });
});

describe('API mapping', () => {
  it('sends only the servers of the chosen type, the secret only when typed', () => {
    expect(toBody(form({ imapSecurity: 'none', imapPort: 143 }))).toEqual({
      name: 'Acme',
      type: 'imap',
      loginFormat: 'email',
      authMethod: 'basic',
      allowSelfSigned: false,
      providerSavesSent: false,
      imap: { host: 'imap.acme.test', port: 143, security: 'none' },
      smtp: { host: 'smtp.acme.test', port: 465, security: 'ssl' },
    });
    const ex = toBody(form({ type: 'exchange', exchangeHost: ' outlook.office365.com ', sendEmails: false, authMethod: 'oauth2', oauthClientId: ' app ', hasSecret: true }));
    expect(ex).toMatchObject({ type: 'exchange', exchange: { serviceAddress: 'outlook.office365.com', loadEmails: true, sendEmails: false }, clientId: 'app' });
    expect(ex).not.toHaveProperty('imap');
    expect(ex).not.toHaveProperty('clientSecret');
  });

  it('round-trips a saved provider', () => {
    const p: Provider = {
      id: 'p1', key: null, name: 'Acme', type: 'imap', imap: { host: 'imap.acme.test', port: 143, security: 'none' }, smtp: { host: 'smtp.acme.test', port: 25, security: 'none' }, exchange: null,
      loginFormat: 'local-part', authMethod: 'basic', clientId: null, hasClientSecret: false, providerSavesSent: true, allowSelfSigned: true, preconfigured: false, domains: [], mailboxCount: 0,
    };
    expect(toBody(fromProvider(p))).toMatchObject({ imap: p.imap, smtp: p.smtp, loginFormat: 'local-part', providerSavesSent: true, allowSelfSigned: true });
  });

  it('maps server field paths onto form fields', () => {
    expect(formField('body.imap.port')).toBe('imapPort');
    expect(formField('exchange')).toBe('loadEmails');
    expect(formField('clientSecret')).toBe('oauthClientSecret');
    expect(formField('body.name')).toBe('name');
  });
});
