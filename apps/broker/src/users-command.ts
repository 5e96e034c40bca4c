/**
 * `leveret users …`: users and their permissions in the data dir's security file, in the spirit of
 * rabbitmqctl (add_user, delete_user, list_users, set_permissions, …). Changes need the broker on that
 * data dir to be stopped; they take effect when it starts.
 *
 *   leveret users add NAME PASSWORD [--tags administrator,monitoring]
 *   leveret users delete NAME
 *   leveret users list
 *   leveret users change-password NAME PASSWORD
 *   leveret users set-tags NAME [TAG...]
 *   leveret users set-permissions NAME [--vhost /] --configure RE --write RE --read RE
 *   leveret users clear-permissions NAME [--vhost /]
 *   leveret users list-permissions [NAME]
 *
 * Not here: locking and the file (security-admin.ts).
 */
import { DEFAULT_VHOST } from "@leveret/core";
import type { Command } from "commander";
import { type AdminTask, changeAccessControl, dataDirOf, readAccessControl } from "./security-admin.js";

interface PermissionOptions {
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

export function addUsersCommand(program: Command, schedule: (task: AdminTask) => void): void {
  const users = program
    .command("users")
    .description(
      "manage users and permissions in --data-dir (stop the broker first; they apply at its next start)",
    );
  users
    .command("add <name> <password>")
    .description("add a user (password hashed as RabbitMQ does: salted SHA-256)")
    .option("--tags <tags>", "comma-separated tags, e.g. administrator")
    .action((name: string, password: string, options: { tags?: string }, command: Command) =>
      schedule(() =>
        changeAccessControl(dataDirOf(command), (control) => {
          control.addUser(name, password, splitTags(options.tags));
          return [`added user '${name}'`];
        }),
      ),
    );
  users
    .command("delete <name>")
    .description("delete a user and all their permissions")
    .action((name: string, _options: unknown, command: Command) =>
      schedule(() =>
        changeAccessControl(dataDirOf(command), (control) => {
          control.deleteUser(name);
          return [`deleted user '${name}'`];
        }),
      ),
    );
  users
    .command("list")
    .description("list users and their tags")
    .action((_options: unknown, command: Command) =>
      schedule(async () => {
        const control = await readAccessControl(dataDirOf(command));
        return [
          "user\ttags",
          ...control.listUsers().map((user) => `${user.name}\t[${user.tags.join(", ")}]`),
        ];
      }),
    );
  users
    .command("change-password <name> <password>")
    .description("set a new password")
    .action((name: string, password: string, _options: unknown, command: Command) =>
      schedule(() =>
        changeAccessControl(dataDirOf(command), (control) => {
          control.changePassword(name, password);
          return [`changed the password of user '${name}'`];
        }),
      ),
    );
  users
    .command("set-tags <name> [tags...]")
    .description("replace a user's tags (none clears them)")
    .action((name: string, tags: string[], _options: unknown, command: Command) =>
      schedule(() =>
        changeAccessControl(dataDirOf(command), (control) => {
          control.setUserTags(
            name,
            tags.flatMap((tag) => splitTags(tag)),
          );
          return [`set the tags of user '${name}'`];
        }),
      ),
    );
  addPermissionCommands(users, schedule);
}

function addPermissionCommands(users: Command, schedule: (task: AdminTask) => void): void {
  users
    .command("set-permissions <name>")
    .description(
      "set what a user may configure, write and read in a vhost (regexes, matched unanchored as in RabbitMQ)",
    )
    .option("--vhost <vhost>", "the vhost", DEFAULT_VHOST)
    .requiredOption("--configure <regex>", "resources the user may declare and delete, e.g. '.*' or '^app-'")
    .requiredOption("--write <regex>", "resources the user may publish to or bind to")
    .requiredOption("--read <regex>", "resources the user may consume from or bind from")
    .action((name: string, options: PermissionOptions, command: Command) =>
      schedule(() =>
        changeAccessControl(dataDirOf(command), (control) => {
          control.setPermissions(name, options.vhost, options);
          return [`set permissions of user '${name}' in vhost '${options.vhost}'`];
        }),
      ),
    );
  users
    .command("clear-permissions <name>")
    .description("remove a user's permissions in a vhost (they can no longer connect to it)")
    .option("--vhost <vhost>", "the vhost", DEFAULT_VHOST)
    .action((name: string, options: { vhost: string }, command: Command) =>
      schedule(() =>
        changeAccessControl(dataDirOf(command), (control) => {
          const had = control.clearPermissions(name, options.vhost);
          return [
            had
              ? `cleared permissions of user '${name}' in vhost '${options.vhost}'`
              : `user '${name}' had no permissions in vhost '${options.vhost}'`,
          ];
        }),
      ),
    );
  users
    .command("list-permissions [name]")
    .description("list permissions (of one user, or of everyone)")
    .action((name: string | undefined, _options: unknown, command: Command) =>
      schedule(async () => {
        const control = await readAccessControl(dataDirOf(command));
        const rows = control.listPermissions().filter((p) => name === undefined || p.user === name);
        return [
          "user\tvhost\tconfigure\twrite\tread",
          ...rows.map((p) => `${p.user}\t${p.vhost}\t${p.configure}\t${p.write}\t${p.read}`),
        ];
      }),
    );
}

function splitTags(tags: string | undefined): string[] {
  return (tags ?? "")
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag !== "");
}
