;;; eglot-test.el --- gfp-lens-server in Emacs + eglot, batch ERT  -*- lexical-binding: t; -*-
;; Run by test/editors/emacs.test.ts (recipe: ../shared/editor-testing.md §3):
;;   GFP_SERVER=out/server/main.js GFP_FILE=<copy of headline.c> GFP_EXPECTED=test/editors/headline.expected.c \
;;     emacs --batch -l test/editors/eglot-test.el -f ert-run-tests-batch-and-exit
;; Not -Q: Debian's elpa-eglot is activated from site-start. Flymake is
;; started by hand, didChange is sent by hand, and the buffer is shown in a
;; window so that eldoc's hover callback is not dropped. Every wait polls.
(require 'ert)
(require 'eglot)
(require 'flymake)
(require 'eldoc)
(require 'seq)
(require 'subr-x)

(defvar gfp-server (getenv "GFP_SERVER"))
(defvar gfp-file (getenv "GFP_FILE"))
(defvar gfp-expected (getenv "GFP_EXPECTED"))
(defvar gfp-timeout (string-to-number (or (getenv "GFP_TIMEOUT") "20")))

(setq eglot-server-programs `((c-mode . ("node" ,gfp-server "--stdio"))))
(setq eglot-sync-connect t
      eglot-autoshutdown t
      eglot-events-buffer-size 0
      make-backup-files nil
      create-lockfiles nil)

(defmacro gfp-wait-for (what &rest cond)
  "Pump the event loop until COND is non-nil or `gfp-timeout' seconds pass."
  `(let ((deadline (+ (float-time) gfp-timeout)) (v nil))
     (while (and (not (setq v (progn ,@cond))) (< (float-time) deadline))
       (accept-process-output nil 0.05))
     (message "[gfp] %-36s %s" ,what (if v "ok" "TIMEOUT"))
     v))

(defun gfp-diags ()
  (flymake-start)
  (seq-filter (lambda (d) (string-match-p "gfp-lens" (flymake-diagnostic-text d))) (flymake-diagnostics)))

(ert-deftest gfp-lens-eglot-diagnostics-hover-refactor ()
  (let ((buf (find-file-noselect gfp-file)))
    (unwind-protect
        (with-current-buffer buf
          (switch-to-buffer buf)
          (should (eq major-mode 'c-mode))
          (apply #'eglot (eglot--guess-contact))
          (should (gfp-wait-for "eglot managing buffer" (eglot-managed-p)))
          (should (gfp-wait-for "diagnostics via flymake" (>= (length (gfp-diags)) 2)))
          (let* ((diags (sort (gfp-diags) (lambda (a b) (< (flymake-diagnostic-beg a) (flymake-diagnostic-beg b)))))
                 (d (car diags))
                 (beg (flymake-diagnostic-beg d))
                 (end (flymake-diagnostic-end d))
                 (hover nil))
            (dolist (x diags) (message "[gfp] diag line %d: %s" (line-number-at-pos (flymake-diagnostic-beg x)) (flymake-diagnostic-text x)))
            (should (string-match-p "gfp/nofs-outside-scope" (flymake-diagnostic-text d)))
            (should (equal (buffer-substring-no-properties beg end) "GFP_NOFS | __GFP_NOFAIL"))
            ;; Hover on the call through the real eldoc pipeline.
            (goto-char beg)
            (search-backward "kzalloc")
            (forward-char 2)
            (let ((eldoc-display-functions
                   (list (lambda (docs _interactive)
                           (dolist (x docs)
                             (when (string-match-p "Effective" (car x)) (setq hover (car x))))))))
              (eldoc-print-current-symbol-info t)
              (should (gfp-wait-for "hover via eldoc" hover)))
            (message "[gfp] hover:\n%s" hover)
            (should (string-match-p "GFP_NOFS | __GFP_ZERO | __GFP_NOFAIL" hover))
            ;; The headline refactor.
            (let* ((actions (eglot-code-actions beg end))
                   (fix (seq-find (lambda (a) (string-prefix-p "Replace GFP_NOFS with scope at transaction start" (plist-get a :title))) actions)))
              (message "[gfp] actions: %S" (mapcar (lambda (a) (plist-get a :title)) actions))
              (should fix)
              (eglot--apply-workspace-edit (plist-get fix :edit))
              (let ((expected (with-temp-buffer (insert-file-contents gfp-expected) (buffer-string))))
                (should (equal (buffer-substring-no-properties (point-min) (point-max)) expected)))
              (eglot--signal-textDocument/didChange)
              (should (gfp-wait-for "diagnostics cleared" (null (gfp-diags)))))))
      (when-let ((s (with-current-buffer buf (eglot-current-server))))
        (ignore-errors (eglot-shutdown s nil 3)))
      (with-current-buffer buf (set-buffer-modified-p nil))
      (kill-buffer buf))))
