// Users, organisational roles (nested), sessions, API tokens and system-operation grants.
export interface UsersTable {
  id: string;
  email: string; // stored lower-case; unique
  name: string;
  password_hash: string | null;
  language: string; // 'en' | 'ru'
  is_active: number; // 0/1
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

export interface RolesTable {
  id: string;
  name: string; // unique
  description: string | null;
  created_at: string;
  updated_at: string;
}

/** A user's direct membership of a role. */
export interface UserRolesTable {
  user_id: string;
  role_id: string;
}

/** A role contained in another role: members of the child are members of the parent. */
export interface RoleChildrenTable {
  parent_role_id: string;
  child_role_id: string;
}

export interface SessionsTable {
  id: string; // sha256 of the cookie value
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  user_agent: string | null;
  ip: string | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string; // sha256; unique
  prefix: string; // first characters, to recognise a token in lists
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

export interface OperationGrantsTable {
  id: string;
  operation: string;
  user_id: string | null;
  role_id: string | null;
  created_at: string;
}

export interface IdentityTables {
  users: UsersTable;
  roles: RolesTable;
  user_roles: UserRolesTable;
  role_children: RoleChildrenTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  operation_grants: OperationGrantsTable;
}
