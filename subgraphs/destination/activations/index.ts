/**
 * Activations: segments delivered to destinations, streaming (a worker service
 * following the membership event log) or on a cron (an Agenda job). This file is
 * the surface the worker and other folders use; tests may reach further in.
 */
export { activationDeliveryService, createActivationDeliveryService, ACTIVATION_DELIVERY_SERVICE_NAME, type ActivationDeliveryOptions } from './deliveryService.js';
export { deliverActivationJob, createDeliverActivationJob, type DeliverActivationJobOptions } from './deliverActivation.job.js';
export { DELIVER_ACTIVATION_JOB_NAME } from './activationScheduler.js';
