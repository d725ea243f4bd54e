//! Just enough of the W3C WebDriver protocol (JSON over HTTP) to drive Debian's Chromium through
//! chromedriver: the test client already speaks HTTP, so no browser-automation crate is needed.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a wait for the page lasts. A wait that succeeds returns at once, so this only
/// bounds a failing test; CI machines with a load average of 30 or more on two cores have taken
/// over 10 s to render a page that normally shows in well under one.
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Browser {
    driver: Child,
    base: String,
    agent: ureq::Agent,
}

#[derive(Clone)]
pub struct Element(String);

/// Where Debian installs the browser and its driver (`apt-get install chromium chromium-driver`).
pub fn installed() -> bool {
    std::path::Path::new("/usr/bin/chromium").exists()
        && std::path::Path::new("/usr/bin/chromedriver").exists()
}

impl Browser {
    pub fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(format!("{root}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap().keep();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1400,1300",
                         format!("--user-data-dir={}", profile.display())],
            },
        }}});
        let mut res = agent
            .post(format!("{root}/session"))
            .send_json(&capabilities)
            .expect("a session");
        let body: Value = res.body_mut().read_json().unwrap();
        let id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {body}"))
            .to_string();
        Browser {
            driver,
            base: format!("{root}/session/{id}"),
            agent,
        }
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let mut res = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .send_json(body.unwrap_or_else(|| json!({}))),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status().as_u16();
        let value: Value = res.body_mut().read_json().unwrap_or(Value::Null);
        if status >= 400 {
            return json!({"error": value["value"]["error"], "message": value["value"]["message"]});
        }
        value["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        let r = self.send("POST", "/url", Some(json!({"url": url})));
        assert!(r.get("error").is_none(), "navigate to {url}: {r}");
    }

    /// The handle of the tab this session drives.
    /// Sets a cookie for the site of the page now open.
    pub fn add_cookie(&self, name: &str, value: &str, path: &str) {
        let r = self.send(
            "POST",
            "/cookie",
            Some(json!({"cookie": {"name": name, "value": value, "path": path, "httpOnly": true, "sameSite": "Lax"}})),
        );
        assert!(r.get("error").is_none(), "cookie: {r}");
    }

    pub fn tab(&self) -> String {
        self.send("GET", "/window", None)
            .as_str()
            .expect("a window handle")
            .to_string()
    }

    /// Opens a new tab (with its own sessionStorage, like a user's second tab) and drives it.
    pub fn new_tab(&self) -> String {
        let r = self.send("POST", "/window/new", Some(json!({"type": "tab"})));
        let handle = r["handle"].as_str().expect("a new tab").to_string();
        self.switch_to(&handle);
        handle
    }

    pub fn switch_to(&self, handle: &str) {
        let r = self.send("POST", "/window", Some(json!({"handle": handle})));
        assert!(r.get("error").is_none(), "switch to {handle}: {r}");
    }

    pub fn run(&self, script: &str, args: Value) -> Value {
        self.send(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    fn find_now(&self, using: &str, value: &str) -> Option<Element> {
        let r = self.send(
            "POST",
            "/element",
            Some(json!({"using": using, "value": value})),
        );
        r[ELEMENT].as_str().map(|id| Element(id.to_string()))
    }

    fn displayed(&self, e: &Element) -> bool {
        self.send("GET", &format!("/element/{}/displayed", e.0), None) == json!(true)
    }

    /// Where the browser is and what it shows, for a wait's failure.
    fn page_now(&self) -> String {
        let page = self.run(
            "return location.href + ' shows: ' + (document.body ? document.body.innerText : '').slice(0, 400);",
            json!([]),
        );
        page.as_str().unwrap_or("(no page)").to_string()
    }

    /// Waits until a visible element matches.
    fn wait(&self, using: &str, value: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(e) = self.find_now(using, value) {
                if self.displayed(&e) {
                    return e;
                }
            }
            if Instant::now() >= deadline {
                panic!(
                    "no visible element for {using} {value} at {}",
                    self.page_now()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn css(&self, selector: &str) -> Element {
        self.wait("css selector", selector)
    }

    pub fn xpath(&self, path: &str) -> Element {
        self.wait("xpath", path)
    }

    /// The visible button whose text is `text`.
    pub fn button(&self, text: &str) -> Element {
        self.xpath(&format!("//button[normalize-space()='{text}']"))
    }

    pub fn click(&self, e: &Element) {
        let r = self.send("POST", &format!("/element/{}/click", e.0), None);
        assert!(r.get("error").is_none(), "click: {r}");
    }

    pub fn type_into(&self, e: &Element, text: &str) {
        self.send("POST", &format!("/element/{}/clear", e.0), None);
        let r = self.send(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(json!({ "text": text })),
        );
        assert!(r.get("error").is_none(), "type: {r}");
    }

    /// Chooses the option whose text starts with `label` in the select matching `selector`.
    pub fn choose(&self, selector: &str, label: &str) {
        let select = self.css(selector);
        let chosen = self.run(
            "const s = arguments[0]; const o = [...s.options].find((o) => o.text.startsWith(arguments[1]));
             if (!o) return false; s.value = o.value; s.dispatchEvent(new Event('change', {bubbles: true})); return true;",
            json!([{ELEMENT: select.0}, label]),
        );
        assert_eq!(chosen, json!(true), "{selector} has no option {label}");
    }

    pub fn text(&self, e: &Element) -> String {
        self.send("GET", &format!("/element/{}/text", e.0), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the element matching `selector` shows `expected` in its text.
    pub fn wait_text(&self, selector: &str, expected: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(e) = self.find_now("css selector", selector) {
                let t = self.text(&e);
                if t.contains(expected) {
                    return t;
                }
                assert!(
                    Instant::now() < deadline,
                    "{selector} shows {t:?}, not {expected:?}"
                );
            }
            if Instant::now() >= deadline {
                panic!("nothing matches {selector} at {}", self.page_now());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `script` with a callback as its last argument and waits for the value given to it.
    pub fn run_async(&self, script: &str, args: Value) -> Value {
        self.send(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// The WCAG 2 A and AA rules axe-core finds broken on the current page, one line each.
    pub fn accessibility_violations(&self, axe_source: &str) -> Vec<String> {
        self.run(&format!("{axe_source}\n;return typeof axe;"), json!([]));
        let found = self.run_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})
               .then((r) => done(r.violations.map((v) => v.id + ': ' + v.help + ' at ' +
                 v.nodes.map((n) => n.target.join(' ')).join(', '))))
               .catch((e) => done(['axe failed: ' + e]));",
            json!([]),
        );
        found
            .as_array()
            .unwrap_or_else(|| panic!("axe answered {found}"))
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Waits until `script` returns something other than null, false or "".
    pub fn wait_for(&self, script: &str, args: Value) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let v = self.run(script, args.clone());
            if !(v.is_null() || v == json!(false) || v == json!("")) && v.get("error").is_none() {
                return v;
            }
            assert!(Instant::now() < deadline, "still waiting for: {script}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Accepts the `window.confirm` the page opened, waiting for it to appear.
    pub fn accept_dialog(&self) {
        let deadline = Instant::now() + PATIENCE;
        while self
            .send("POST", "/alert/accept", None)
            .get("error")
            .is_some()
        {
            assert!(Instant::now() < deadline, "no dialog opened");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let data = self.send("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("a screenshot"))
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// What the page wrote to the console at level SEVERE (errors, failed loads, CSP refusals).
    pub fn console_errors(&self) -> Vec<String> {
        let logs = self.send("POST", "/se/log", Some(json!({"type": "browser"})));
        logs.as_array()
            .expect("chromedriver returns the browser log")
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.base).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
