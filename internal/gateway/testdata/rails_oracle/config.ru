# Test-only Rails oracle for wootguard: Chatwoot's Rack::Attack rules
# (config/initializers/rack_attack.rb, v4.18 era) restated, loaded after
# ActionDispatch, inside real Rack::Attack behind Rack::MethodOverride.
# GET/POST anything: answers JSON with what Rack::Attack counted
# (rule => discriminator), the method after override, the path Rack::Attack
# saw and the params as ActionDispatch hands them to a controller.
#
# Debian ships Rack 2.2 / Rails 6.1 / Ruby 3.1; Chatwoot runs Rack 3.2 /
# Rails 7.2 / Ruby 3.4. The PIN blocks below make this oracle behave like
# Chatwoot's versions; internal/gateway/oracle_test.go pins each of them.
require 'json'
require 'base64'
require 'rack'
require 'action_dispatch'
require 'active_model'
require 'active_support'
require 'active_support/core_ext/object/blank'
require 'active_support/cache'
require 'active_support/json'
require 'rack/attack'

# PIN rack3-query-separator: Rack 3 splits the query only on "&" (Rack 2
# also on ";").
module Rack
  class Request
    module Helpers
      def GET
        if get_header(RACK_REQUEST_QUERY_STRING) == query_string
          get_header(RACK_REQUEST_QUERY_HASH)
        else
          query_hash = parse_query(query_string, '&')
          set_header(RACK_REQUEST_QUERY_STRING, query_string)
          set_header(RACK_REQUEST_QUERY_HASH, query_hash)
        end
      end
    end
  end
end

# PIN rails72-problem-json: Rails 7.2 maps application/problem+json to :json.
Mime::Type.unregister(:json)
Mime::Type.register 'application/json', :json, %w[text/x-json application/jsonrequest application/problem+json]

# PIN ruby34-inspect: Ruby 3.4 prints hashes as {"k" => v}.
module OracleInspect
  def self.to_s(v)
    case v
    when Hash then "{#{v.map { |k, x| "#{k.to_s.inspect} => #{inspect(x)}" }.join(', ')}}"
    when Array then "[#{v.map { |x| inspect(x) }.join(', ')}]"
    else v.to_s
    end
  end

  def self.inspect(v)
    case v
    when Hash, Array then to_s(v)
    else v.inspect
    end
  end
end

module OracleEnv
  def self.on?(name)
    ActiveModel::Type::Boolean.new.cast(ENV.fetch(name, true))
  end
end

Rack::Attack.cache.store = ActiveSupport::Cache::MemoryStore.new

class Rack::Attack
  class Request < ::Rack::Request
    def remote_ip
      @remote_ip ||= (env['action_dispatch.remote_ip'] || ip).to_s
    end

    def allowed_ip?
      (['127.0.0.1', '::1'] + ENV.fetch('RACK_ATTACK_ALLOWED_IPS', '').split(',').map(&:strip)).include?(remote_ip)
    end

    def path_without_extensions
      bare = path[/^[^.]+/]
      bare == '/' ? bare : bare.sub(%r{/+\z}, '')
    end

    def dispatch_params
      ActionDispatch::Request.new(env).params
    end

    def auth_param(key)
      value = params[key].presence || dispatch_params[key].presence
      value.is_a?(String) ? value : nil
    rescue StandardError
      nil
    end

    def bearer_identifier(token)
      creds = JSON.parse(Base64.strict_decode64(token.to_s.split.last.to_s))
      if creds.is_a?(Hash) && %w[uid client access-token].all? { |k| creds[k].present? }
        get_header('HTTP_UID').presence || creds['uid']
      else
        token.presence
      end
    rescue ArgumentError, JSON::ParserError
      token.presence
    end

    def api_user_identifier
      scheme, token = ActionDispatch::Request.new(env).authorization.to_s.split(' ', 2)
      return bearer_identifier(token) if scheme&.casecmp?('Bearer')

      get_header('HTTP_UID').presence || get_header('HTTP_API_ACCESS_TOKEN').presence || get_header('api_access_token').presence
    end

    def normalized_auth_email(include_header: false)
      email = auth_param('email')
      email = get_header('HTTP_EMAIL').presence if email.nil? && include_header
      email&.downcase&.gsub(/\s+/, '')
    end

    def legacy_email
      email = params['email'].presence || dispatch_params['email'].presence
      email.to_s.downcase.gsub(/\s+/, '')
    end

    def posted_to?(bare_path)
      path_without_extensions == bare_path && post?
    end

    def no_mfa?
      auth_param('mfa_token').blank? && auth_param('mfa_setup_token').blank?
    end

    def user_on_account(match)
      id = api_user_identifier
      "#{id}:#{match[:account_id]}" if id.present?
    end
  end

  safelist('trusted IPs', &:allowed_ip?)
  safelist('health check') { |req| req.path == '/health' }

  throttle('req/ip', limit: ENV.fetch('RACK_ATTACK_LIMIT', '3000').to_i, period: 1.minute, &:ip)
  throttle('super_admin_login/ip', limit: 5, period: 5.minutes) { |req| req.ip if req.posted_to?('/super_admin/sign_in') }
  throttle('super_admin_login/email', limit: 5, period: 15.minutes) { |req| req.legacy_email if req.posted_to?('/super_admin/sign_in') }
  throttle('login/ip', limit: 5, period: 5.minutes) { |req| req.ip if req.posted_to?('/auth/sign_in') && req.no_mfa? }
  throttle('login/email', limit: 10, period: 15.minutes) do |req|
    req.normalized_auth_email(include_header: true) if req.posted_to?('/auth/sign_in') && req.no_mfa?
  end
  throttle('reset_password/ip', limit: 5, period: 30.minutes) { |req| req.ip if req.posted_to?('/auth/password') }
  throttle('reset_password/email', limit: 5, period: 1.hour) { |req| req.normalized_auth_email if req.posted_to?('/auth/password') }
  throttle('resend_confirmation/ip', limit: 5, period: 30.minutes) { |req| req.ip if req.posted_to?('/resend_confirmation') }
  throttle('resend_confirmation/email', limit: 5, period: 1.hour) { |req| req.normalized_auth_email if req.posted_to?('/resend_confirmation') }
  throttle('resend_confirmation_auth/ip', limit: 5, period: 30.minutes) { |req| req.ip if req.posted_to?('/api/v1/profile/resend_confirmation') }
  throttle('mfa_verification/ip', limit: 5, period: 1.minute) do |req|
    if req.path_without_extensions == '/api/v1/profile/mfa'
      req.ip if req.delete?
    elsif req.path_without_extensions.match?(%r{/api/v1/profile/mfa/(verify|backup_codes)})
      req.ip if req.post?
    end
  end
  throttle('mfa_login/ip', limit: 10, period: 1.minute) { |req| req.ip if req.posted_to?('/auth/sign_in') && req.auth_param('mfa_token').present? }
  throttle('mfa_login/token', limit: 10, period: 1.minute) { |req| req.auth_param('mfa_token') if req.posted_to?('/auth/sign_in') }
  throttle('mfa_setup_login/ip', limit: 10, period: 1.minute) { |req| req.ip if req.posted_to?('/auth/sign_in') && req.auth_param('mfa_setup_token').present? }
  throttle('mfa_setup_login/token', limit: 10, period: 1.minute) { |req| req.auth_param('mfa_setup_token') if req.posted_to?('/auth/sign_in') }
  throttle('accounts/ip', limit: 5, period: 30.minutes) { |req| req.ip if req.posted_to?('/api/v1/accounts') }

  if OracleEnv.on?('ENABLE_RACK_ATTACK_WIDGET_API')
    { 'CONVERSATIONS' => ['api/v1/widget/conversations', '30'], 'MESSAGES' => ['api/v1/widget/messages', '60'] }.each do |sw, (name, limit)|
      next unless OracleEnv.on?("ENABLE_RACK_ATTACK_WIDGET_#{sw}")

      throttle(name, limit: ENV.fetch("RATE_LIMIT_WIDGET_#{sw}", limit).to_i, period: 1.minute) do |req|
        next unless req.posted_to?("/#{name}")

        token = req.dispatch_params['website_token'].presence
        "#{req.ip}:#{OracleInspect.to_s(token)}" if token
      end
    end
    if OracleEnv.on?('ENABLE_RACK_ATTACK_WIDGET_CONTACTS')
      throttle('api/v1/widget/contact', limit: ENV.fetch('RATE_LIMIT_WIDGET_CONTACTS', '60').to_i, period: 1.hour) do |req|
        req.ip if req.path_without_extensions == '/api/v1/widget/contact' && (req.patch? || req.put?)
      end
    end
    if OracleEnv.on?('ENABLE_RACK_ATTACK_WIDGET_LOAD')
      throttle('widget?website_token={website_token}&cw_conversation={x-auth-token}', limit: ENV.fetch('RATE_LIMIT_WIDGET_LOAD', '200').to_i, period: 1.hour) do |req|
        req.ip if req.path_without_extensions == '/widget' && req.dispatch_params['cw_conversation'].blank?
      end
    end
    if OracleEnv.on?('ENABLE_RACK_ATTACK_WIDGET_TRANSCRIPT')
      throttle('api/v1/widget/conversations/transcript', limit: ENV.fetch('RATE_LIMIT_WIDGET_TRANSCRIPT', '5').to_i, period: 1.hour) do |req|
        req.ip if req.posted_to?('/api/v1/widget/conversations/transcript')
      end
    end
  end

  throttle('/api/v1/accounts/:account_id/conversations/:conversation_id/transcript', limit: ENV.fetch('RATE_LIMIT_CONVERSATION_TRANSCRIPT', '1000').to_i, period: 1.hour) do |req|
    m = %r{/api/v1/accounts/(?<account_id>\d+)/conversations/(?<conversation_id>\d+)/transcript}.match(req.path)
    m[:account_id] if m
  end
  throttle('/api/v1/accounts/:account_id/conversations/:id DELETE', limit: ENV.fetch('RATE_LIMIT_CONVERSATION_DELETE', '60').to_i, period: 1.minute) do |req|
    next unless req.delete?

    m = %r{\A/api/v1/accounts/(?<account_id>\d+)/conversations/(?<id>\d+)/?\z}.match(req.path_without_extensions)
    m[:account_id] if m
  end
  throttle('/api/v1/accounts/:account_id/agents POST', limit: ENV.fetch('RATE_LIMIT_AGENT_CREATE', '100').to_i, period: 1.day) do |req|
    next unless req.post?

    m = %r{\A/api/v1/accounts/(?<account_id>\d+)/agents(?:/bulk_create)?/?\z}.match(req.path_without_extensions)
    m[:account_id] if m
  end
  throttle('/api/v1/accounts/:account_id/agents/:id DELETE', limit: ENV.fetch('RATE_LIMIT_AGENT_DELETE', '50').to_i, period: 1.day) do |req|
    next unless req.delete?

    m = %r{\A/api/v1/accounts/(?<account_id>\d+)/agents/(?<id>\d+)/?\z}.match(req.path_without_extensions)
    m[:account_id] if m
  end
  throttle('/api/v1/accounts/:account_id/upload', limit: 60, period: 1.hour) do |req|
    m = %r{/api/v1/accounts/(?<account_id>\d+)/upload}.match(req.path)
    m[:account_id] if m
  end
  throttle('/api/v1/accounts/:account_id/contacts/search', limit: ENV.fetch('RATE_LIMIT_CONTACT_SEARCH', '100').to_i, period: 1.minute) do |req|
    m = %r{/api/v1/accounts/(?<account_id>\d+)/contacts/search}.match(req.path)
    m[:account_id] if m
  end
  user_level = ENV.fetch('RATE_LIMIT_REPORTS_API_USER_LEVEL', '100').to_i
  drill_level = ENV.fetch('RATE_LIMIT_REPORTS_DRILLDOWN_API_USER_LEVEL', [user_level / 10, 1].max).to_i
  throttle('/api/v2/accounts/:account_id/reports/drilldown/user', limit: drill_level, period: 1.minute) do |req|
    m = %r{\A/api/v2/accounts/(?<account_id>\d+)/reports/drilldown\z}.match(req.path_without_extensions)
    req.user_on_account(m) if m && req.get?
  end
  throttle('/api/v2/accounts/:account_id/reports/user', limit: user_level, period: 1.minute) do |req|
    m = %r{/api/v2/accounts/(?<account_id>\d+)/reports}.match(req.path)
    req.user_on_account(m) if m
  end
  throttle('/api/v2/accounts/:account_id/reports', limit: ENV.fetch('RATE_LIMIT_REPORTS_API_ACCOUNT_LEVEL', '1000').to_i, period: 1.minute) do |req|
    m = %r{/api/v2/accounts/(?<account_id>\d+)/reports}.match(req.path)
    m[:account_id] if m
  end
  throttle('/api/v1/accounts/:account_id/conversations/meta/user', limit: ENV.fetch('RATE_LIMIT_CONVERSATIONS_META', '30').to_i, period: 1.minute) do |req|
    m = %r{/api/v1/accounts/(?<account_id>\d+)/conversations/meta}.match(req.path)
    req.user_on_account(m) if m && req.get?
  end
end

# The param echo: values typed, so the Go side compares kinds too.
def oracle_encode(v)
  case v
  when String then v.valid_encoding? ? { 's' => v } : { 'bad' => v.b.bytes }
  when Integer then { 'i' => v.to_s }
  when Float then { 'f' => v.to_s }
  when true then { 't' => 1 }
  when false then { 'false' => 1 }
  when nil then { 'nil' => 1 }
  when Array then { 'a' => v.map { |x| oracle_encode(x) } }
  when ActionDispatch::Http::UploadedFile then { 'file' => v.original_filename.to_s }
  when Hash then { 'h' => v.map { |k, x| [k.to_s, oracle_encode(x)] } }
  else { 'other' => v.class.name }
  end
end

def oracle_report(env)
  data = (env['rack.attack.throttle_data'] || {}).transform_values { |d| d[:discriminator] }
  out = { 'method' => env['REQUEST_METHOD'], 'path' => env['PATH_INFO'], 'counted' => data,
          'match_type' => env['rack.attack.match_type'].to_s, 'matched' => env['rack.attack.matched'].to_s,
          'rack' => Rack.release, 'actionpack' => ActionPack.version.to_s, 'ruby' => RUBY_VERSION }
  begin
    out['params'] = oracle_encode(ActionDispatch::Request.new(env).params.to_h)
  rescue StandardError => e
    out['params_error'] = e.class.name
  end
  JSON.generate(out)
end

Rack::Attack.throttled_responder = lambda do |req|
  [429, { 'Content-Type' => 'application/json' }, [oracle_report(req.env)]]
end

oracle = lambda do |env|
  if env['PATH_INFO'] == '/__oracle/reset'
    Rack::Attack.cache.store.clear
    return [200, { 'Content-Type' => 'text/plain' }, ["reset\n"]]
  end
  [200, { 'Content-Type' => 'application/json' }, [oracle_report(env)]]
end

use Rack::MethodOverride
use Rack::Attack
run oracle
