// Table types of the notifications module (see src/platform/db/index.ts for the cross-dialect conventions).
export interface NotificationsTable {
  id: string;
  user_id: string;
  /** Machine-readable kind, e.g. 'mailbox.connected', 'mailbox.needs-reauth'. */
  kind: string;
  title: string;
  body: string | null;
  /** JSON array of { rel, label, href } — where the user can go from the notification. */
  links: string;
  read_at: string | null;
  created_at: string;
}

export interface NotificationsTables {
  notifications: NotificationsTable;
}
