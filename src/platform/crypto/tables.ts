export interface SecretsTable {
  /** What the secret belongs to, e.g. "mailbox:<id>:password", "chat-channel:<id>:bot-token". */
  ref: string;
  envelope: string;
  updated_at: string;
}

export interface SecretsTables {
  secrets: SecretsTable;
}
