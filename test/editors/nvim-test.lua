-- Headless Neovim (0.7) end-to-end test of gfp-lens-server, run by
-- test/editors/neovim.test.ts (recipe: ../shared/editor-testing.md §2):
--   GFP_SERVER=out/server/main.js GFP_EXPECTED=test/editors/headline.expected.c GFP_OUT=result.txt \
--     nvim --headless --clean -u test/editors/nvim-test.lua <copy of test/editors/headline.c>
-- Exit status: 0 = all checks passed, 1 = a check failed, 2 = Lua error, 3 = watchdog.
-- Every wait polls (vim.wait) for the result; there are no fixed sleeps.

vim.opt.swapfile = false
vim.opt.shadafile = 'NONE'

local SERVER = assert(os.getenv('GFP_SERVER'), 'GFP_SERVER not set')
local EXPECTED = assert(os.getenv('GFP_EXPECTED'), 'GFP_EXPECTED not set')
local OUT = assert(os.getenv('GFP_OUT'), 'GFP_OUT not set')
local TIMEOUT_MS = tonumber(os.getenv('GFP_TIMEOUT_MS') or '20000')

local out = assert(io.open(OUT, 'w'))
local function log(...)
  local line = table.concat(vim.tbl_map(tostring, { ... }), ' ')
  out:write(line, '\n'); out:flush()
end
local function finish(code)
  log('EXIT ' .. code)
  out:close()
  for _, c in ipairs(vim.lsp.get_active_clients()) do c.stop(true) end
  vim.cmd((code == 0) and 'qall!' or ('cquit ' .. code))
end

vim.defer_fn(function() log('WATCHDOG: no result after ' .. (TIMEOUT_MS * 3) .. ' ms'); finish(3) end, TIMEOUT_MS * 3)

local client_id
vim.api.nvim_create_autocmd('FileType', {
  pattern = 'c',
  callback = function(args)
    if not client_id then
      client_id = vim.lsp.start_client({
        name = 'gfp-lens',
        cmd = { 'node', SERVER, '--stdio' },
        root_dir = vim.fn.fnamemodify(args.file, ':p:h'),
      })
      if not client_id then log('FAIL start_client returned nil'); finish(1) return end
    end
    vim.lsp.buf_attach_client(args.buf, client_id)
  end,
})

local function run()
  local ok_all = true
  local function check(name, cond, detail)
    log((cond and 'PASS ' or 'FAIL ') .. name .. (detail and (': ' .. detail) or ''))
    ok_all = ok_all and cond
  end
  local buf = vim.api.nvim_get_current_buf()
  log('file', vim.api.nvim_buf_get_name(buf), 'filetype', vim.bo[buf].filetype)

  local inited = vim.wait(TIMEOUT_MS, function()
    local c = client_id and vim.lsp.get_client_by_id(client_id)
    return c ~= nil and c.initialized == true
  end, 20)
  check('server initialized', inited)
  if not inited then return finish(1) end

  local got = vim.wait(TIMEOUT_MS, function() return #vim.diagnostic.get(buf) >= 2 end, 20)
  local diags = vim.diagnostic.get(buf)
  table.sort(diags, function(a, b) return a.lnum < b.lnum end)
  check('diagnostics published', got, tostring(#diags))
  for _, d in ipairs(diags) do
    log(('  diag %d:%d [%s] %s'):format(d.lnum + 1, d.col + 1, d.source or '?', d.message))
  end
  if not got then return finish(1) end
  local d = diags[1]
  check('diagnostic source and code', d.source == 'gfp-lens' and d.user_data and d.user_data.lsp and d.user_data.lsp.code == 'gfp/nofs-outside-scope')

  -- Hover on the allocation call of the first diagnostic's line.
  local uri = vim.uri_from_bufnr(buf)
  local line = vim.api.nvim_buf_get_lines(buf, d.lnum, d.lnum + 1, false)[1]
  local col = line:find('kzalloc', 1, true)
  local hres = vim.lsp.buf_request_sync(buf, 'textDocument/hover',
    { textDocument = { uri = uri }, position = { line = d.lnum, character = col } }, TIMEOUT_MS) or {}
  local hover
  for _, r in pairs(hres) do if r.result then hover = r.result end end
  local md = hover and hover.contents and (hover.contents.value or '') or ''
  for l in md:gmatch('[^\n]+') do log('  hover| ' .. l) end
  check('hover returns markdown with the effective mask', hover ~= nil and hover.contents.kind == 'markdown' and md:find('**Effective: `GFP_NOFS | __GFP_ZERO | __GFP_NOFAIL`**', 1, true) == 1)

  -- The headline refactor, from the diagnostic.
  local range = { start = { line = d.lnum, character = d.col }, ['end'] = { line = d.end_lnum, character = d.end_col } }
  local ares = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction',
    { textDocument = { uri = uri }, range = range, context = { diagnostics = { d.user_data.lsp } } }, TIMEOUT_MS) or {}
  local action
  for _, r in pairs(ares) do
    for _, a in ipairs(r.result or {}) do
      log('  action: ' .. a.title)
      if a.title:find('Replace GFP_NOFS with scope at transaction start', 1, true) == 1 then action = a end
    end
  end
  check('headline refactor offered', action ~= nil)
  if not action then return finish(1) end
  vim.lsp.util.apply_workspace_edit(action.edit, 'utf-16')
  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') .. '\n'
  local f = assert(io.open(EXPECTED, 'r'))
  local expected = f:read('*a')
  f:close()
  check('refactored text is the expected one', text == expected)
  if text ~= expected then for l in text:gmatch('[^\n]*\n') do log('  got| ' .. l:sub(1, -2)) end end
  local cleared = vim.wait(TIMEOUT_MS, function() return #vim.diagnostic.get(buf) == 0 end, 20)
  check('diagnostics cleared after the refactor', cleared)
  finish(ok_all and 0 or 1)
end

vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = function()
    vim.schedule(function()
      local ok, err = pcall(run)
      if not ok then log('LUA ERROR ' .. tostring(err)); finish(2) end
    end)
  end,
})
