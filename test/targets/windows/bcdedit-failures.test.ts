/**
 * bcdedit failures are classified on facts that do not vary (exit code, the command, error numbers, `bcdedit /?`,
 * the words "Secure Boot") and on the words of the languages netdbg lists, never on one exact English sentence;
 * the raw text is always kept. Each wording below is either REAL, with the public page it was copied from beside
 * it, or labelled SYNTHETIC (written for this test, not seen on a real machine): those only show that the
 * classifier reads the words it lists, not that Windows prints them so.
 */
import { describe, expect, it } from "vitest";
import { type BcdFailureKind, classifyBcdeditFailure } from "../../../src/targets/windows/bcdedit-parse.js";
import { fixture } from "./fixtures.js";

interface Wording {
  text: string;
  /** A public URL where the text appears, or "SYNTHETIC". */
  source: string;
}

const CASES: Record<Exclude<BcdFailureKind, "ok" | "unknown">, Wording[]> = {
  "secure-boot": [
    { text: fixture("bcdedit/issue-appveyor-ci-919-secureboot-testsigning.txt"), source: "test/fixtures/bcdedit/README.md" },
    {
      text: "Error setting element data.\r\nThe value is protected by the Secure Boot policy and cannot be changed or deleted.\r\n",
      source: "https://github.com/pathtofile/PPLRunner/issues/5",
    },
    {
      text: "Failed to set item data.\r\nThe value is protected by the secure boot policy and cannot be modified or deleted.\r\n",
      source: "https://github.com/robot9706/VirtualCameraDriver/issues/3",
    },
    {
      text: "Beim Festlegen der Elementdaten ist ein Fehler aufgetreten.\r\nDer Wert ist durch die Richtlinie für den sicheren Start geschützt und kann nicht geändert oder gelöscht werden.\r\n",
      source: "SYNTHETIC",
    },
    { text: "设置元素数据时出错。\r\n该值受安全引导策略保护，无法进行修改或删除。\r\n", source: "SYNTHETIC" },
  ],
  "access-denied": [
    { text: "The boot configuration data store could not be opened.\r\nAccess is denied.\r\n", source: "SYNTHETIC" },
    { text: "Zugriff verweigert\r\n", source: "https://reneelab.de/boot_configuration_data_bcd_files.html" },
    {
      text: "Le magasin de données de configuration de démarrage n'a pas pu être ouvert.\r\nAccès refusé.\r\n",
      source: "SYNTHETIC",
    },
    { text: "无法打开启动配置数据存储。\r\n拒绝访问。\r\n", source: "SYNTHETIC" },
  ],
  "store-not-found": [
    {
      text: fixture("bcdedit/issue-windows-driver-samples-821-debug-on-store-not-found.txt"),
      source: "test/fixtures/bcdedit/README.md",
    },
    {
      text: "The boot configuration data store could not be opened.\r\nThe requested system device cannot be found.\r\n",
      source: "https://github.com/th-wilde/veracrypt-w10-patcher/issues/14",
    },
    { text: "无法打开启动配置数据存储。\r\n", source: "https://github.com/hakuna-m/wubiuefi/issues/261" },
    {
      text: "Der Bootkonfigurationsdatenspeicher konnte nicht gefunden werden.\r\nDas angeforderte Systemgerät kann nicht gefunden werden.\r\n",
      source: "https://www.kunstundkaese.de/wie-repariert-man-den-efi-gpt-bootloader-unter-windows-10/",
    },
    {
      text: "Der Speicher für die Startkonfigurationsdaten konnte nicht geöffnet werden.\r\nDas System kann die angegebene Datei nicht finden.\r\n",
      source: "SYNTHETIC",
    },
  ],
  "store-altered": [
    {
      text: fixture("bcdedit/issue-hackbgrt-180-copy-bootmgr-store-altered.txt"),
      source: "https://github.com/Metabolix/HackBGRT/issues/180",
    },
    { text: "Der Startkonfigurationsdatenspeicher konnte nicht geöffnet werden. (0x800703EE)\r\n", source: "SYNTHETIC" },
  ],
  "export-failed": [{ text: fixture("bcdedit/pastebin-eXQXKxKU-export-failed.txt"), source: "test/fixtures/bcdedit/README.md" }],
  "invalid-parameter": [
    {
      text: 'The specified device is invalid.\r\nRun "bcdedit /?" for command line help.\r\nParameter error.\r\n',
      source: "SYNTHETIC",
    },
    { text: 'Der angegebene Befehl ist ungültig.\r\nFühren Sie "bcdedit /?" aus.\r\n', source: "SYNTHETIC" },
  ],
  "set-failed": [
    { text: "An error has occurred setting the element data.\r\nThe parameter is incorrect.\r\n", source: "SYNTHETIC" },
  ],
};

describe("classifyBcdeditFailure: each kind in several wordings (real ones with their source)", () => {
  for (const [kind, wordings] of Object.entries(CASES)) {
    for (const w of wordings) {
      it(`${kind}: ${w.source === "SYNTHETIC" ? "SYNTHETIC " : ""}${JSON.stringify(w.text.slice(0, 60))}`, () => {
        expect(w.source === "SYNTHETIC" || /^https:\/\/|^test\/fixtures\//.test(w.source)).toBe(true);
        const f = classifyBcdeditFailure(w.text, 1);
        expect(f.kind).toBe(kind);
        // the raw text is kept, whatever the kind
        for (const l of w.text.split(/\r?\n/).filter((x) => x.trim() && !/^(E:>|>|Execute:|Exit code:|bcdedit )/i.test(x.trim())))
          expect(f.message).toContain(l.trim());
      });
    }
  }
});

describe("classifyBcdeditFailure: facts that do not depend on the words", () => {
  const unknown = "Đã xảy ra lỗi khi thiết lập dữ liệu phần tử.\r\n"; // SYNTHETIC (vi-VN), no sign knows it
  it("text no sign knows: unknown, E210, raw kept", () => {
    expect(classifyBcdeditFailure(unknown, 1)).toEqual({ code: "NETDBG-E210", kind: "unknown", message: unknown.trim() });
  });
  it("a session that is not elevated: access denied, whatever the words", () => {
    expect(classifyBcdeditFailure(unknown, 1, { elevated: false })).toMatchObject({ kind: "access-denied", code: "NETDBG-E200" });
  });
  it("the command was /export: export failed, whatever the words", () => {
    expect(classifyBcdeditFailure(unknown, 1, { command: ["/export", "C:\\x.bak"] }).kind).toBe("export-failed");
  });
  it("an error number printed in the text", () => {
    expect(classifyBcdeditFailure("Lỗi 0x80070005\r\n", 1).kind).toBe("access-denied"); // SYNTHETIC
  });
  it("exit 0 is ok, in any language", () => {
    expect(classifyBcdeditFailure("The operation completed successfully.\r\n", 0).kind).toBe("ok");
    expect(classifyBcdeditFailure("Der Vorgang wurde erfolgreich beendet.\r\n", 0).kind).toBe("ok");
  });
});
