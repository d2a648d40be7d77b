/**
 * The buyer's page for one event: sign in (development buyers), the waiting
 * room, the live seat map, the hold with its countdown, payment with a test
 * card, and the confirmation; plus sold out, expired hold and waitlist offer.
 * EventPage moves the buyer between those stages; each stage has its module.
 */
import { config } from './config';
import { EventPage } from './event-page';
import { landing } from './landing';

if (config.eventId) void new EventPage(config.eventId).start();
else landing();
