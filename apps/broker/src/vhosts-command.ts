/**
 * `leveret vhosts …`: the vhosts in the data dir's security file (rabbitmqctl's add_vhost,
 * delete_vhost, list_vhosts). Deleting a vhost removes its permissions at once; its queues, exchanges,
 * bindings and messages are removed from the log when the broker next starts (the command does not
 * replay the log, which may be large). Adding a vhost of the same name before that start gives a new,
 * empty vhost, as in RabbitMQ.
 *
 *   leveret vhosts add NAME
 *   leveret vhosts delete NAME
 *   leveret vhosts list
 *
 * Not here: locking and the file (security-admin.ts).
 */
import type { Command } from "commander";
import { type AdminTask, changeAccessControl, dataDirOf, readAccessControl } from "./security-admin.js";

export function addVhostsCommand(program: Command, schedule: (task: AdminTask) => void): void {
  const vhosts = program
    .command("vhosts")
    .description("manage vhosts in --data-dir (stop the broker first; they apply at its next start)");
  vhosts
    .command("add <name>")
    .description("add a vhost (no user has permissions in it yet)")
    .action((name: string, _options: unknown, command: Command) =>
      schedule(() =>
        changeAccessControl(dataDirOf(command), (control) => [
          control.addVhost(name) ? `added vhost '${name}'` : `vhost '${name}' already exists`,
        ]),
      ),
    );
  vhosts
    .command("delete <name>")
    .description("delete a vhost with everything in it")
    .action((name: string, _options: unknown, command: Command) =>
      schedule(() =>
        changeAccessControl(dataDirOf(command), (control) => {
          control.deleteVhost(name);
          return [
            `deleted vhost '${name}'; its queues, exchanges and messages go when the broker next starts`,
          ];
        }),
      ),
    );
  vhosts
    .command("list")
    .description("list vhosts")
    .action((_options: unknown, command: Command) =>
      schedule(async () => ["name", ...(await readAccessControl(dataDirOf(command))).listVhosts()]),
    );
}
