import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { findEvent } from '../db/queries/events';
import type { Pool } from 'pg';
import {
  type AdmissionInput,
  type AdmissionLimits,
  closeUpdate,
  pauseUpdate,
  resumeUpdate,
  setLimitsUpdate,
  wakeSignal,
} from '../domain/admission';
import { EVENT_ID_KEY } from '../domain/checkout';
import { admissionWorkflowId } from '../domain/ids';
import type { Logger } from '../platform/logger';
import type { WaitingRoom } from '../services/waiting-room';

/** At most one wake-up signal per event in this period, however many buyers join. */
export const WAKE_GATE_MS = 1000;
import { admission } from '../workflows/admission';

/** Steers each event's admission workflow from the admin API. */
export class AdmissionControl {
  constructor(
    private readonly temporal: Client,
    private readonly pool: Pool,
    private readonly taskQueue: string,
    private readonly room: WaitingRoom,
    private readonly logger: Logger,
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

  /** Ends the sale: the workflow admits nobody else, marks the room closed and completes. */
  async close(eventId: string): Promise<void> {
    await this.update(eventId, (h) => h.executeUpdate(closeUpdate));
  }

  /**
   * A buyer joined: if the event's controller is asleep, one caller a second
   * wakes it. Never fails the join; a wake-up that cannot be sent is re-armed
   * for the next joiner, and the controller's own timer is the backstop.
   */
  async wake(eventId: string): Promise<void> {
    try {
      if (!(await this.room.claimWake(eventId, WAKE_GATE_MS))) return;
    } catch (err) {
      this.logger.warn({ err, eventId }, 'admission wake-up gate unavailable');
      return;
    }
    await this.sendWake(eventId);
  }

  /** The wake-up signal, for a caller that already holds the gate (a join made with `wakeGateMs`). */
  async sendWake(eventId: string): Promise<void> {
    try {
      await this.temporal.workflow.getHandle(admissionWorkflowId(eventId)).signal(wakeSignal);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return; // not opened, or closed
      this.logger.warn({ err, eventId }, 'admission wake-up not sent; the next joiner retries');
      await this.room.rearmWake(eventId, 60_000).catch(() => undefined);
    }
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
