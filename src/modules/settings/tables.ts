export interface SystemSettingsTable {
  code: string;
  /** JSON-encoded value; secrets are not here but in the SecretStore (ref "setting:<code>"). */
  value: string | null;
  updated_at: string;
  updated_by: string | null;
}

export interface UserSettingsTable {
  code: string;
  user_id: string;
  value: string;
  updated_at: string;
}

export interface SettingsTables {
  system_settings: SystemSettingsTable;
  user_settings: UserSettingsTable;
}
