export interface ChatFile {
  id: string;
  name: string;
  mimeType: string;
  size: number;
  kind: 'photo' | 'document';
  url?: string;
}
export interface ChatMessage {
  id: string;
  chatId?: string;
  direction: 'in' | 'out';
  authorUserId: string | null;
  authorName?: string | null;
  text: string | null;
  files: ChatFile[];
  delivery?: string | null;
  sendError?: string | null;
  createdAt: string;
}
export interface Chat {
  id: string;
  channelId: string;
  channelName?: string;
  channelKind?: string;
  queueId: string;
  queueName?: string;
  contactId: string | null;
  contactName?: string | null;
  customerName: string;
  customerUsername?: string | null;
  state: 'queued' | 'offered' | 'in-progress' | 'completed';
  operatorId: string | null;
  createdAt: string;
  offeredAt?: string | null;
  acceptedAt?: string | null;
  completedAt?: string | null;
  lastMessageAt: string;
  lastMessage?: ChatMessage | null;
  lastMessageText?: string | null;
  offerExpiresAt?: string | null;
  offeredToMe?: boolean;
  messages?: ChatMessage[];
  contact?: { id: string; name: string } | null;
  channel?: { id: string; name: string; kind: string };
}
export interface ChatAction {
  id: string;
  name: string;
  queueId?: string | null;
}
