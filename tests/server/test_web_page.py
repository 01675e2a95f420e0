"""The chat page at / driven in headless Chromium (selenium + chromedriver): a message streams a
reply into the page, and Stop aborts a long reply, after which the server has nothing running.

Usage: test_web_page.py KESTREL_BINARY MODEL.gguf   (exit 77 = skipped: no Chromium/driver)
"""
import shutil
import sys
import time
import unittest

try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.chrome.service import Service
except ImportError:
    sys.exit(77)

from server_util import Server

KESTREL, MODEL = sys.argv[1], sys.argv[2]
DRIVER = shutil.which("chromedriver")
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
if DRIVER is None or BROWSER is None:
    print("no chromium/chromedriver: skipped", file=sys.stderr)
    sys.exit(77)


def wait_for(cond, seconds=180):
    end = time.time() + seconds
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    return None


class WebPage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(KESTREL, MODEL, "--api-key", "page-key", "--kv-tokens", "8192")
        opts = webdriver.ChromeOptions()
        opts.binary_location = BROWSER
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
            opts.add_argument(a)
        cls.driver = webdriver.Chrome(service=Service(DRIVER), options=opts)

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        assert cls.server.stop() == 0

    def open_page(self):
        d = self.driver
        d.get(self.server.url + "/")
        key = d.find_element(By.ID, "key")
        key.clear()
        key.send_keys("page-key")
        return d

    def send(self, d, text):
        box = d.find_element(By.ID, "input")
        box.send_keys(text)
        d.find_element(By.ID, "send").click()

    def test_streams_a_reply(self):
        d = self.open_page()
        self.assertEqual(d.title, "Kestrel chat")
        self.send(d, "Say hello in one short sentence.")
        status = wait_for(lambda: d.find_element(By.ID, "status").text in ("done", "error")
                          and d.find_element(By.ID, "status").text)
        self.assertEqual(status, "done")
        reply = d.find_element(By.CSS_SELECTOR, ".msg.assistant").text
        self.assertTrue(reply.strip())
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, ".msg.error"), [])

    def test_stop_button_cancels_generation(self):
        d = self.open_page()
        self.send(d, "Write a very long story about a river, with many chapters.")
        # Wait until text is streaming in, then stop.
        self.assertTrue(wait_for(lambda: len(d.find_elements(By.CSS_SELECTOR, ".msg.assistant")) > 0
                                 and d.find_elements(By.CSS_SELECTOR, ".msg.assistant")[-1].text))
        d.find_element(By.ID, "stop").click()
        self.assertEqual(wait_for(lambda: d.find_element(By.ID, "status").text == "stopped"
                                  and "stopped"), "stopped")
        # The server cancelled the sequence: nothing runs once the cancel is processed.
        self.assertTrue(wait_for(
            lambda: self.server.metric("kestrel_running_sequences", "page-key") == 0, 60))
        self.assertLess(self.server.metric("kestrel_generation_tokens_total", "page-key"), 600)

    def test_wrong_key_shows_an_error(self):
        d = self.open_page()
        key = d.find_element(By.ID, "key")
        key.clear()
        key.send_keys("wrong")
        self.send(d, "hi")
        self.assertTrue(wait_for(lambda: d.find_elements(By.CSS_SELECTOR, ".msg.error")))
        self.assertIn("API key", d.find_elements(By.CSS_SELECTOR, ".msg.error")[-1].text)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
