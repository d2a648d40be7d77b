import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { findEvent } from '../db/queries/events';
import type { Pool } from 'pg';
import { type AdmissionInput, type AdmissionLimits, pauseUpdate, resumeUpdate, setLimitsUpdate } from '../domain/admission';
import { EVENT_ID_KEY } from '../domain/checkout';
import { admissionWorkflowId } from '../domain/ids';
import { admission } from '../workflows/admission';

/** Steers each event's admission workflow from the admin API. */
export class AdmissionControl {
  constructor(
    private readonly temporal: Client,
    private readonly pool: Pool,
    private readonly taskQueue: string,
  ) {}

  async onSaleState(eventId: string, action: 'open' | 'pause' | 'resume'): Promise<void> {
    const event = await findEvent(this.pool, eventId);
    if (!event?.waitingRoom.enabled) return;
    if (action === 'open') {
      const input: AdmissionInput = {
        eventId,
        onSaleAtMs: event.onSaleAt.getTime(),
        limits: {
          maxActiveCheckouts: event.waitingRoom.maxActiveCheckouts,
          admitPerMinute: event.waitingRoom.admitPerMinute,
          admissionWindowSeconds: event.waitingRoom.admissionWindowSeconds,
        },
      };
      await this.temporal.workflow.start(admission, {
        workflowId: admissionWorkflowId(eventId),
        taskQueue: this.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [{ key: EVENT_ID_KEY, value: eventId }],
        staticSummary: `Waiting room of ${event.name} (${eventId})`,
      });
      return;
    }
    await this.update(eventId, (h) => h.executeUpdate(action === 'pause' ? pauseUpdate : resumeUpdate));
  }

  async setLimits(eventId: string, limits: Partial<AdmissionLimits>): Promise<void> {
    await this.update(eventId, (h) => h.executeUpdate(setLimitsUpdate, { args: [limits] }));
  }

  private async update(eventId: string, fn: (h: ReturnType<Client['workflow']['getHandle']>) => Promise<unknown>) {
    try {
      await fn(this.temporal.workflow.getHandle(admissionWorkflowId(eventId)));
    } catch (err) {
      // Not opened yet: the workflow starts with the stored settings when it is.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
}
