export type TagScope = 'personal' | 'corporate' | 'public';
export interface TagRef {
  id: string;
  name: string;
  scope?: TagScope;
  color?: string | null;
}
export interface Tag {
  id: string;
  name: string;
  scope: TagScope;
  color: string | null;
  ownerId: string;
}
export const CASE_STATUSES = ['new', 'in-progress', 'waiting', 'resolved', 'closed'] as const;
export const CASE_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export interface Case {
  id: string;
  number: number;
  subject: string;
  description: string | null;
  status: (typeof CASE_STATUSES)[number];
  priority: (typeof CASE_PRIORITIES)[number];
  contactId: string | null;
  accountId: string | null;
  ownerId: string;
  tags: TagRef[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}
export interface Share {
  userId: string | null;
  roleId: string | null;
  access: 'read' | 'edit';
}
export interface Contact {
  id: string;
  name: string;
  emails: { email: string; label: string | null; isPrimary: boolean }[];
  phones: { phone: string; label: string | null; isPrimary: boolean }[];
  accountId: string | null;
  jobTitle: string | null;
  type: 'employee' | 'customer' | 'other';
  ownerId: string;
  notes: string | null;
  tags: TagRef[];
  createdAt: string;
  updatedAt: string;
}
export interface Account {
  id: string;
  name: string;
  domain: string | null;
  website: string | null;
  phones: { phone: string; label: string | null; isPrimary: boolean }[];
  ownerId: string;
  notes: string | null;
  tags: TagRef[];
  createdAt: string;
  updatedAt: string;
}
export interface Activity {
  id: string;
  type: 'task' | 'meeting';
  title: string;
  description: string | null;
  start: string;
  end: string;
  allDay: boolean;
  status: 'planned' | 'in-progress' | 'done' | 'cancelled';
  showInCalendar: boolean;
  participants: { contactIds: string[]; userIds: string[] };
}
export interface TimelineEntry {
  id: string;
  source: string;
  kind: string;
  at: string;
  title: string;
  actorId: string | null;
  data: Record<string, unknown>;
}
export const GROUP_KINDS = ['contacts', 'activities'] as const;
export interface CrmGroup {
  id: string;
  name: string;
  kind: (typeof GROUP_KINDS)[number];
  description: string | null;
  ownerId: string;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
}
