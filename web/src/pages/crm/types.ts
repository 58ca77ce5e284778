export interface TagRef {
  id: string;
  name: string;
  color?: string | null;
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
