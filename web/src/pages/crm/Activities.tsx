export function ActivitiesPage() {
  return null;
}
