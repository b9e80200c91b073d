//! The README's examples run as written: the walkthrough, the vendor API's blocks and
//! the storefront and carrier examples (every `sh` block from "Walkthrough (curl)" up to
//! "Mail"), top to bottom, in bash, against a `dropflow serve` on a fresh data dir. A
//! newcomer pastes them in that order; each `curl` must answer what its comment says: the
//! status a comment starts with (`# 409: …`), else a 2xx.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Where the README's examples start and stop.
const FIRST_SECTION: &str = "## Walkthrough (curl)";
const AFTER_LAST_SECTION: &str = "## Mail";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `sh` blocks between the two headings, in order (a list item's blocks are
/// indented; the indent is taken off).
fn blocks(readme: &str) -> Vec<String> {
    let start = readme.find(FIRST_SECTION).expect("the walkthrough section");
    let end = start + readme[start..].find(AFTER_LAST_SECTION).expect("the mail section");
    let mut blocks = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for line in readme[start..end].lines() {
        let indent = line.len() - line.trim_start().len();
        match (&mut current, line.trim()) {
            (None, "```sh") => current = Some((indent, Vec::new())),
            (Some(_), "```") => blocks.push(current.take().map(|(_, lines)| lines.join("\n")).unwrap_or_default()),
            (Some((indent, lines)), _) => lines.push(line.get(*indent..).unwrap_or("").to_string()),
            (None, _) => {}
        }
    }
    blocks
}

/// One logical line per command (a `\` at the end joins the next).
fn logical_lines(script: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for line in script.lines() {
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    lines
}

/// What each `curl` of the script is to answer, in order: the status its comment
/// starts with, or None for any 2xx.
fn expected_statuses(script: &str) -> Vec<(String, Option<u16>)> {
    logical_lines(script)
        .into_iter()
        .filter(|line| !line.trim_start().starts_with('#') && (line.trim_start().starts_with("curl ") || line.contains("$(curl ")))
        .map(|line| {
            let comment = line.find(" # ").map(|at| line[at + 3..].trim().to_string()).unwrap_or_default();
            let status = comment.get(..3).and_then(|code| code.parse().ok()).filter(|_| comment.len() == 3 || comment[3..].starts_with(':'));
            (line, status)
        })
        .collect()
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn the_readme_examples_run_as_written_and_answer_what_their_comments_say() {
    for tool in ["bash", "curl", "jq", "openssl"] {
        let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
        assert!(found, "{tool} is needed to run the README's examples (scripts/test.sh installs it)");
    }
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let blocks = blocks(&readme);
    assert!(blocks.len() >= 5, "the walkthrough, the vendor API's two blocks, the generic and the AfterShip examples: {}", blocks.len());
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let binary = env!("CARGO_BIN_EXE_dropflow");
    let log = std::fs::File::create(data.path().join("serve.log")).unwrap();
    let _served = Served(
        Command::new(binary)
            .args(["--data-dir", data.path().join("store").to_str().unwrap(), "serve", "--port", &port.to_string()])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let base = format!("127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(&base).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // As written, but on this test's port and data dir, and with each curl's status noted.
    let statuses = data.path().join("statuses");
    let script: String = blocks
        .iter()
        .map(|block| block.lines().filter(|l| !l.starts_with("dropflow() {")).collect::<Vec<_>>().join("\n"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("localhost:3000", &base);
    let expected = expected_statuses(&script);
    let harness = format!(
        r#"set -euo pipefail
dropflow() {{ {binary:?} --data-dir {store:?} "$@"; }}
curl() {{
  local out
  out=$(command curl --write-out '\n%{{http_code}}' "$@")
  printf '%s\n' "${{out%$'\n'*}}"
  printf '%s\n' "${{out##*$'\n'}}" >> {statuses:?}
}}
{script}
"#,
        store = data.path().join("store"),
    );
    let mut bash = Command::new("bash").current_dir(repo()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    bash.stdin.take().unwrap().write_all(harness.as_bytes()).unwrap();
    let ran = bash.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&ran.stdout), String::from_utf8_lossy(&ran.stderr));
    let serve_log = std::fs::read_to_string(data.path().join("serve.log")).unwrap_or_default();
    assert!(ran.status.success(), "the examples stopped: {stderr}\n--- printed:\n{stdout}\n--- serve:\n{serve_log}");

    let answered: Vec<u16> = std::fs::read_to_string(&statuses).unwrap().lines().map(|s| s.trim().parse().unwrap()).collect();
    assert_eq!(answered.len(), expected.len(), "one status per curl: {answered:?}\n--- printed:\n{stdout}");
    for ((line, want), got) in expected.iter().zip(&answered) {
        match want {
            Some(status) => assert_eq!(got, status, "{line}\n--- printed:\n{stdout}"),
            None => assert!((200..300).contains(got), "{got}: {line}\n--- printed:\n{stdout}"),
        }
    }
    // What the comments promise the reader sees.
    for promised in ["ETag: \"1\"", "\"order_number\": \"#1002\"", "\"margin\"", "\"awaiting_approval\""] {
        assert!(stdout.to_lowercase().contains(&promised.to_lowercase()), "{promised} not printed:\n{stdout}");
    }
    assert!(stdout.contains("Order #1001: 1 of 3 items delivered"), "the walkthrough ends with the delivered mail, as its comment says:\n{stdout}");
}

#[test]
fn a_comment_naming_a_status_is_what_the_curl_must_answer() {
    let script = "curl -s a # 409: not now\ncurl -s b \\\n  -d x   # 412\nID=$(curl -s c | jq .id)\n# curl in a comment\ncurl -s d  # ETag: \"1\"";
    let statuses: Vec<Option<u16>> = expected_statuses(script).into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, [Some(409), Some(412), None, None]);
}
