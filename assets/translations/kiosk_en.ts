<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name>BundleController</name>
    <message>
        <source>、</source>
        <translation>, </translation>
    </message>
    <message>
        <source>一次申请，可少跑 {n} 次；预计 {d} 个工作日办结。</source>
        <translation>One application saves you {n} trips. Expected to take {d} working days.</translation>
    </message>
    <message>
        <source>{name}，身份已确认。</source>
        <translation>{name}, your identity is confirmed.</translation>
    </message>
    <message>
        <source>请打开“随申办”App，将随申码对准摄像头画面中的方框。</source>
        <translation>Open the Suishenban app and hold your Suishenma code to the frame in the camera picture.</translation>
    </message>
    <message>
        <source>也可以刷身份证：
请将身份证平放在读卡区</source>
        <translation>You can also use your ID card:
place it flat on the card reader</translation>
    </message>
    <message>
        <source>没有手机？呼叫工作人员帮办</source>
        <translation>No phone? Call staff</translation>
    </message>
    <message>
        <source>✓ 免于提交（已调取您的电子证照）</source>
        <translation>✓ Not needed (we have your electronic licenses)</translation>
    </message>
    <message>
        <source>需要您携带的材料</source>
        <translation>Documents to bring</translation>
    </message>
    <message>
        <source>所需材料均已免于提交，无需携带。</source>
        <translation>You do not need to bring any documents.</translation>
    </message>
    <message>
        <source>以下信息来自您的电子证照，已隐去部分内容：</source>
        <translation>From your electronic licenses, partly hidden:</translation>
    </message>
    <message>
        <source>这些信息来自电子证照，本机不能修改。如有错误，请先不要提交：</source>
        <translation>This comes from your electronic licences and cannot be changed here. If something is wrong, do not submit yet:</translation>
    </message>
    <message>
        <source>请工作人员帮您核实</source>
        <translation>Ask a member of staff to check it</translation>
    </message>
    <message>
        <source>信息有误？</source>
        <translation>Something wrong?</translation>
    </message>
    <message>
        <source>提交后还需携带 {n} 项材料；已免于提交 {m} 项。</source>
        <translation>After you submit: documents to bring: {n}; not needed: {m}.</translation>
    </message>
    <message>
        <source>确认提交申请</source>
        <translation>Submit application</translation>
    </message>
    <message>
        <source>建议您：</source>
        <translation>What you can do:</translation>
    </message>
    <message>
        <source>请先出示随申码</source>
        <translation>Show your Suishenma code first</translation>
    </message>
    <message>
        <source>请先选择一项</source>
        <translation>Choose an answer first</translation>
    </message>
    <message>
        <source>请先输入</source>
        <translation>Type it first</translation>
    </message>
    <message>
        <source>这件事包括</source>
        <translation>What this covers</translation>
    </message>
    <message>
        <source>确认身份</source>
        <translation>Confirm your identity</translation>
    </message>
    <message>
        <source>材料清单</source>
        <translation>Documents</translation>
    </message>
    <message>
        <source>请核对您的信息</source>
        <translation>Please check your details</translation>
    </message>
    <message>
        <source>确认提交</source>
        <translation>Confirm and submit</translation>
    </message>
    <message>
        <source>暂不符合办理条件</source>
        <translation>Not eligible at the moment</translation>
    </message>
    <message>
        <source>✓ {n} 项材料免于提交（已调取电子证照）</source>
        <translation>✓ {n} documents not needed (electronic licenses fetched)</translation>
    </message>
    <message>
        <source>{title}（{note}）</source>
        <translation>{title} ({note})</translation>
    </message>
    <message>
        <source>正在提交，请稍候……</source>
        <translation>Submitting, please wait…</translation>
    </message>
    <message>
        <source>还需提交的材料</source>
        <translation>Still to hand in</translation>
    </message>
    <message>
        <source>所需材料均已免于提交</source>
        <translation>No documents to hand in</translation>
    </message>
    <message>
        <source>已免于提交（电子证照）</source>
        <translation>Not needed (electronic licenses)</translation>
    </message>
    <message>
        <source>预计 {d} 个工作日办结</source>
        <translation>Expected to take {d} working days</translation>
    </message>
    <message>
        <source>接下来</source>
        <translation>Next steps</translation>
    </message>
    <message>
        <source>正在打印回执…</source>
        <translation>Printing your receipt…</translation>
    </message>
    <message>
        <source>请取走回执。</source>
        <translation>Please take your receipt.</translation>
    </message>
</context>
<context>
    <name>BundleListScreen</name>
    <message>
        <source>请选择要办理的“一件事”</source>
        <translation>Choose a one-stop service</translation>
    </message>
    <message>
        <source>以上事项为示例，具体办理条件和材料以受理中心的最新要求为准，不构成法律意见。</source>
        <translation>These services are examples: the service center&apos;s current requirements apply. This is not legal advice.</translation>
    </message>
    <message>
        <source>一件事一次办成</source>
        <translation>One-stop services</translation>
    </message>
</context>
<context>
    <name>BundleResultScreen</name>
    <message>
        <source>申请已提交，办件编号：</source>
        <translation>Submitted. Reference:</translation>
    </message>
    <message>
        <source>评价本次服务</source>
        <translation>Rate this service</translation>
    </message>
    <message>
        <source>完成，返回首页</source>
        <translation>Done, back to Home</translation>
    </message>
    <message>
        <source>办理结果</source>
        <translation>Your application</translation>
    </message>
    <message>
        <source>{title}（说明见回执）</source>
        <translation>{title} (details on the receipt)</translation>
    </message>
    <message>
        <source>另有 {n} 项，详见回执</source>
        <translation>{n} more: see your receipt</translation>
    </message>
    <message>
        <source>、</source>
        <translation>, </translation>
    </message>
    <message>
        <source>申请已暂存</source>
        <translation>Application saved</translation>
    </message>
    <message>
        <source>取号</source>
        <translation>Take a number</translation>
    </message>
    <message>
        <source>去“{title}”窗口办理</source>
        <translation>at the &quot;{title}&quot; counter</translation>
    </message>
</context>
<context>
    <name>BundlesSection</name>
    <message>
        <source>一件事文件</source>
        <translation>Bundle files</translation>
    </message>
    <message>
        <source>全部 {n} 个有效</source>
        <translation>All {n} valid</translation>
    </message>
    <message>
        <source>{bad} 个文件有问题，未被加载；其余 {n} 个有效。</source>
        <translation>Files with problems, not loaded: {bad}. Valid: {n}.</translation>
    </message>
</context>
<context>
    <name>CameraSection</name>
    <message>
        <source>摄像头</source>
        <translation>Camera</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>State</translation>
    </message>
    <message>
        <source>帧率</source>
        <translation>Frame rate</translation>
    </message>
    <message>
        <source>识别耗时</source>
        <translation>Decode time</translation>
    </message>
    <message>
        <source>丢弃帧数</source>
        <translation>Dropped frames</translation>
    </message>
    <message>
        <source>设备</source>
        <translation>Device</translation>
    </message>
    <message>
        <source>曝光</source>
        <translation>Exposure</translation>
    </message>
    <message>
        <source>识别器</source>
        <translation>Decoder</translation>
    </message>
    <message>
        <source>最近识别</source>
        <translation>Last code</translation>
    </message>
    <message>
        <source>正在启动</source>
        <translation>Starting</translation>
    </message>
    <message>
        <source>正常</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>不可用</source>
        <translation>Unavailable</translation>
    </message>
    <message>
        <source>画面停止</source>
        <translation>Picture frozen</translation>
    </message>
    <message>
        <source>识别进程重启中</source>
        <translation>restarting the camera process</translation>
    </message>
    <message>
        <source>{ms} 毫秒（中位数）</source>
        <translation>{ms} ms (median)</translation>
    </message>
    <message>
        <source>随申码（个人码）</source>
        <translation>Suishenma (personal code)</translation>
    </message>
    <message>
        <source>排队凭条码</source>
        <translation>Queue ticket code</translation>
    </message>
    <message>
        <source>预约码</source>
        <translation>Appointment code</translation>
    </message>
    <message>
        <source>办件回执码</source>
        <translation>Application receipt code</translation>
    </message>
    <message>
        <source>不是本系统的码</source>
        <translation>Not one of our codes</translation>
    </message>
    <message>
        <source>本系统的码，但已损坏</source>
        <translation>Our code, but damaged</translation>
    </message>
    <message>
        <source>本系统的码，但版本不支持</source>
        <translation>Our code, but an unsupported version</translation>
    </message>
    <message>
        <source>本系统的码，但类型未知</source>
        <translation>Our code, but of an unknown kind</translation>
    </message>
    <message>
        <source>已信任</source>
        <translation>trusted</translation>
    </message>
    <message>
        <source>未知密钥</source>
        <translation>unknown key</translation>
    </message>
    <message>
        <source>{when} {kind}，密钥 {key}（{trust}）</source>
        <translation>{when} {kind}, key {key} ({trust})</translation>
    </message>
</context>
<context>
    <name>CameraView</name>
    <message>
        <source>摄像头暂时无法使用</source>
        <translation>Camera not available</translation>
    </message>
</context>
<context>
    <name>CategoryScreen</name>
    <message>
        <source>您要办什么事？点一下，取对应业务的号</source>
        <translation>What do you need? Tap it to take a number for the right service</translation>
    </message>
    <message>
        <source>请选择要办理的业务</source>
        <translation>Choose the service you need</translation>
    </message>
    <message>
        <source>取“{title}”的号</source>
        <translation>Take a number for &quot;{title}&quot;</translation>
    </message>
    <message>
        <source>‹ 按业务选择</source>
        <translation>‹ Choose by service</translation>
    </message>
    <message>
        <source>按事项找</source>
        <translation>Find by matter</translation>
    </message>
    <message>
        <source>不知道选哪个时</source>
        <translation>Not sure which one?</translation>
    </message>
    <message>
        <source>选择业务</source>
        <translation>Choose a service</translation>
    </message>
    <message>
        <source>{name}，您好</source>
        <translation>Hello, {name}</translation>
    </message>
    <message>
        <source>您好</source>
        <translation>Hello</translation>
    </message>
    <message>
        <source>等候 {n} 人</source>
        <translation>{n} waiting</translation>
    </message>
    <message>
        <source>{title}现在不能取号：{note}。</source>
        <translation>No numbers for {title} now: {note}.</translation>
    </message>
</context>
<context>
    <name>CheckInController</name>
    <message>
        <source>正在打印凭条…</source>
        <translation>Printing your ticket…</translation>
    </message>
    <message>
        <source>请取走凭条，留意叫号。</source>
        <translation>Please take your ticket and watch for your number.</translation>
    </message>
</context>
<context>
    <name>CheckInResultScreen</name>
    <message>
        <source>预约签到</source>
        <translation>Appointment check-in</translation>
    </message>
    <message>
        <source>取普通号</source>
        <translation>Take a regular number</translation>
    </message>
    <message>
        <source>再试一次</source>
        <translation>Try again</translation>
    </message>
    <message>
        <source>重新打印凭条</source>
        <translation>Print the ticket again</translation>
    </message>
    <message>
        <source>返回首页</source>
        <translation>Back to Home</translation>
    </message>
</context>
<context>
    <name>ChoicePages</name>
    <message>
        <source>‹ 上一页</source>
        <translation>‹ Previous page</translation>
    </message>
    <message>
        <source>更多选择 ›</source>
        <translation>More choices ›</translation>
    </message>
</context>
<context>
    <name>ConfigSection</name>
    <message>
        <source>配置</source>
        <translation>Config</translation>
    </message>
    <message>
        <source>重新加载检查</source>
        <translation>Check config file</translation>
    </message>
    <message>
        <source>重启终端</source>
        <translation>Restart kiosk</translation>
    </message>
    <message>
        <source>自助程序将关闭，并在几秒后按配置文件中的配置重新启动。确定重启吗？</source>
        <translation>The kiosk program will close and start again in a few seconds with the settings in the config file. Restart now?</translation>
    </message>
    <message>
        <source>确定重启</source>
        <translation>Restart</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>配置文件：{path}</source>
        <translation>Config file: {path}</translation>
    </message>
    <message>
        <source>正在检查配置文件……</source>
        <translation>Checking the config file…</translation>
    </message>
    <message>
        <source>OK：配置文件有效。修改后的配置要重启终端才会生效。</source>
        <translation>OK: the config file is valid. Changes take effect after a restart.</translation>
    </message>
</context>
<context>
    <name>ErrorsSection</name>
    <message>
        <source>最近错误</source>
        <translation>Recent errors</translation>
    </message>
    <message>
        <source>最近 {n} 条警告和错误，最新的在最上面（只记录时间、模块和消息）。</source>
        <translation>The last {n} warnings and errors, newest first (time, module and message only).</translation>
    </message>
    <message>
        <source>（没有警告或错误）</source>
        <translation>(no warnings or errors)</translation>
    </message>
</context>
<context>
    <name>ExitSection</name>
    <message>
        <source>退出自助模式</source>
        <translation>Exit kiosk mode</translation>
    </message>
    <message>
        <source>退出后自助程序关闭，终端回到系统界面，居民无法再使用，而且不会自动重新启动（退出码 10）。维护完成后，请在控制台执行 systemctl start kiosk，或重启终端，恢复服务。</source>
        <translation>Exiting closes the kiosk program and shows the system screen; residents can no longer use the terminal, and it does not start again by itself (exit status 10). When the maintenance is done, run systemctl start kiosk on the console, or restart the terminal, to bring the service back.</translation>
    </message>
    <message>
        <source>确定要退出自助模式吗？</source>
        <translation>Exit kiosk mode now?</translation>
    </message>
    <message>
        <source>确定退出</source>
        <translation>Exit</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
</context>
<context>
    <name>HelpScreen</name>
    <message>
        <source>正在为您呼叫工作人员</source>
        <translation>Calling a staff member for you</translation>
    </message>
    <message>
        <source>也可以拨打 {hotline} 政务服务热线，或使用“随申办”App 在线咨询</source>
        <translation>You can also call the {hotline} government service hotline, or ask online in the Suishenban app.</translation>
    </message>
    <message>
        <source>返回刚才的页面</source>
        <translation>Back to where I was</translation>
    </message>
    <message>
        <source>正在通知工作人员…</source>
        <translation>Notifying a staff member…</translation>
    </message>
    <message>
        <source>如需立即帮助，请拨打 {hotline} 政务服务热线。</source>
        <translation>For help right away, call the {hotline} government service hotline.</translation>
    </message>
    <message>
        <source>工作人员正在赶来，请稍候</source>
        <translation>A staff member is on the way</translation>
    </message>
    <message>
        <source>请在终端旁稍候。</source>
        <translation>Please wait by this kiosk.</translation>
    </message>
    <message>
        <source>帮办</source>
        <translation>Staff help</translation>
    </message>
    <message>
        <source>请稍候……</source>
        <translation>Please wait…</translation>
    </message>
    <message>
        <source>暂时无法呼叫工作人员</source>
        <translation>Staff cannot be called right now</translation>
    </message>
</context>
<context>
    <name>HomeScreen</name>
    <message>
        <source>欢迎使用 24小时自助服务</source>
        <translation>Welcome to 24-hour self-service</translation>
    </message>
    <message>
        <source>扫码取号
请出示随申码</source>
        <translation>Scan to take a number
Show your Suishenma code</translation>
    </message>
    <message>
        <source>没有手机
直接取号</source>
        <translation>No phone?
Take a number here</translation>
    </message>
    <message>
        <source>呼叫帮办</source>
        <translation>Call staff</translation>
    </message>
    <message>
        <source>工作人员来帮您</source>
        <translation>A staff member will help you</translation>
    </message>
    <message>
        <source>更多服务 ›</source>
        <translation>More services ›</translation>
    </message>
    <message>
        <source>一件事
一次办成</source>
        <translation>One-stop services</translation>
    </message>
    <message>
        <source>办件查询</source>
        <translation>Check progress</translation>
    </message>
    <message>
        <source>预约签到</source>
        <translation>Appointment check-in</translation>
    </message>
    <message>
        <source>好差评</source>
        <translation>Rate our service</translation>
    </message>
    <message>
        <source>当前排队人数</source>
        <translation>People waiting now</translation>
    </message>
    <message>
        <source>如需帮助，请联系工作人员或拨打 12345 热线</source>
        <translation>Need help? Ask a staff member or call the 12345 hotline.</translation>
    </message>
    <message>
        <source>欢迎使用自助服务。取号请点“扫码取号”，没有手机请点“没有手机”，需要帮忙请点“呼叫帮办”。</source>
        <translation>Welcome to self-service. To take a number, tap “Scan to take a number”. Without a phone, tap “No phone?”. For help, tap “Call staff”.</translation>
    </message>
    <message>
        <source>{title}：{note}</source>
        <translation>{title}: {note}</translation>
    </message>
    <message>
        <source>{title}：{n} 人</source>
        <translation>{title}: {n}</translation>
    </message>
</context>
<context>
    <name>Keypad</name>
    <message>
        <source>⌫
删除</source>
        <translation>⌫
Delete</translation>
    </message>
    <message>
        <source>全部
清除</source>
        <translation>Clear
all</translation>
    </message>
</context>
<context>
    <name>LinkSection</name>
    <message>
        <source>后台连接</source>
        <translation>Backend link</translation>
    </message>
    <message>
        <source>连接状态</source>
        <translation>Link state</translation>
    </message>
    <message>
        <source>上次检查</source>
        <translation>Last check</translation>
    </message>
    <message>
        <source>待发送</source>
        <translation>Outbox</translation>
    </message>
    <message>
        <source>最早一条</source>
        <translation>Oldest item</translation>
    </message>
    <message>
        <source>检查连接</source>
        <translation>Check connection</translation>
    </message>
    <message>
        <source>正常</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>缓慢</source>
        <translation>Slow</translation>
    </message>
    <message>
        <source>断开（拒绝连接）</source>
        <translation>Down (connection refused)</translation>
    </message>
    <message>
        <source>无响应（超时）</source>
        <translation>Hanging (timeout)</translation>
    </message>
    <message>
        <source>后台报错（5xx）</source>
        <translation>Server error (5xx)</translation>
    </message>
    <message>
        <source>应答丢失</source>
        <translation>Replies lost</translation>
    </message>
    <message>
        <source>{state}（{detail}）</source>
        <translation>{state} ({detail})</translation>
    </message>
    <message>
        <source>正在检查……</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <source>失败，用时 {ms} 毫秒</source>
        <translation>Failed after {ms} ms</translation>
    </message>
    <message>
        <source>正常，用时 {ms} 毫秒</source>
        <translation>OK in {ms} ms</translation>
    </message>
    <message>
        <source>{n} 条</source>
        <translation>{n}</translation>
    </message>
    <message>
        <source>{age} 前存入</source>
        <translation>stored {age} ago</translation>
    </message>
    <message>
        <source>{n} 秒</source>
        <translation>{n} s</translation>
    </message>
    <message>
        <source>{n} 分钟</source>
        <translation>{n} min</translation>
    </message>
    <message>
        <source>{h} 小时 {m} 分钟</source>
        <translation>{h} h {m} min</translation>
    </message>
    <message>
        <source>{n} 天</source>
        <translation>{n} d</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>一网通办 · 24小时自助服务</source>
        <extracomment>The language button names the other language, in that language (never translated).</extracomment>
        <translation>Shanghai 24-hour self-service</translation>
    </message>
    <message>
        <source>一网通办 24小时自助服务</source>
        <translation>Shanghai government services: 24-hour self-service</translation>
    </message>
    <message>
        <source>‹ 返回</source>
        <translation>‹ Back</translation>
    </message>
    <message>
        <source>首页</source>
        <translation>Home</translation>
    </message>
    <message>
        <source>呼叫帮办</source>
        <translation>Call staff</translation>
    </message>
    <message>
        <source>标准模式</source>
        <translation>Standard mode</translation>
    </message>
    <message>
        <source>长辈模式</source>
        <translation>Senior mode</translation>
    </message>
    <message>
        <source>您还在使用吗？</source>
        <translation>Are you still there?</translation>
    </message>
    <message>
        <source>倒计时结束后将返回首页，并清除您的信息</source>
        <translation>When the countdown ends, the kiosk goes back to Home and clears your details.</translation>
    </message>
    <message>
        <source>继续使用</source>
        <translation>Continue</translation>
    </message>
</context>
<context>
    <name>Maintenance</name>
    <message>
        <source>（已设置）</source>
        <translation>(set)</translation>
    </message>
    <message>
        <source>（未设置）</source>
        <translation>(not set)</translation>
    </message>
</context>
<context>
    <name>MaintenanceController</name>
    <message>
        <source>暂时无法核对密码（{err}），请稍后再试。</source>
        <translation>The PIN cannot be checked right now ({err}). Please try again later.</translation>
    </message>
    <message>
        <source>测试页已发送到打印机……</source>
        <translation>Test page sent to the printer…</translation>
    </message>
    <message>
        <source>测试页已打印，请核对纸上的各项设置。</source>
        <translation>Test page printed. Check the settings printed on it.</translation>
    </message>
    <message>
        <source>暂停的凭条已全部补打。</source>
        <translation>Every held ticket has been reprinted.</translation>
    </message>
    <message>
        <source>测试页未能打印（{code}）：{hint}</source>
        <translation>Test page not printed ({code}): {hint}</translation>
    </message>
    <message>
        <source>已请求补打：打印机就绪后立即打印暂停的凭条。</source>
        <translation>Reprint requested: held tickets print as soon as the printer is ready.</translation>
    </message>
    <message>
        <source>已取消 {n} 张暂停的凭条。</source>
        <translation>Held tickets cancelled: {n}.</translation>
    </message>
</context>
<context>
    <name>MaintenanceScreen</name>
    <message>
        <source>结束维护</source>
        <translation>Log out</translation>
    </message>
    <message>
        <source>终端维护</source>
        <translation>Maintenance</translation>
    </message>
</context>
<context>
    <name>PinScreen</name>
    <message>
        <source>请输入维护密码</source>
        <translation>Enter the maintenance PIN</translation>
    </message>
    <message>
        <source>6–12 位数字，仅限技术人员使用</source>
        <translation>6–12 digits, for technicians only</translation>
    </message>
    <message>
        <source>确认</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>终端维护</source>
        <translation>Maintenance</translation>
    </message>
    <message>
        <source>正在核对……</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <source>密码不正确。再输错 {n} 次将锁定维护功能。</source>
        <translation>Wrong PIN. Wrong tries left before maintenance locks: {n}.</translation>
    </message>
    <message>
        <source>密码输错次数过多，维护功能已锁定，请在 {time} 后再试。</source>
        <translation>Too many wrong PINs: maintenance is locked. Try again after {time}.</translation>
    </message>
    <message>
        <source>本终端未设置维护密码，维护功能无法使用。请在终端上运行 kiosk hash-pin（它把密码的哈希写入配置文件的 [maintenance] 部分），然后重启终端。</source>
        <translation>No maintenance PIN is set on this terminal, so maintenance cannot be used. Run kiosk hash-pin on the terminal (it writes the PIN&apos;s hash into the [maintenance] section of the config file), then restart the terminal.</translation>
    </message>
</context>
<context>
    <name>PrinterSection</name>
    <message>
        <source>打印机</source>
        <translation>Printer</translation>
    </message>
    <message>
        <source>型号 / 连接</source>
        <translation>Model / connection</translation>
    </message>
    <message>
        <source>纸宽</source>
        <translation>Paper width</translation>
    </message>
    <message>
        <source>每行字符</source>
        <translation>Characters per line</translation>
    </message>
    <message>
        <source>中文字库</source>
        <translation>Chinese font</translation>
    </message>
    <message>
        <source>打印机自绘二维码</source>
        <translation>Native QR codes</translation>
    </message>
    <message>
        <source>切刀</source>
        <translation>Cutter</translation>
    </message>
    <message>
        <source>实时状态</source>
        <translation>Live status</translation>
    </message>
    <message>
        <source>暂停的凭条</source>
        <translation>Held tickets</translation>
    </message>
    <message>
        <source>打印测试页</source>
        <translation>Print test page</translation>
    </message>
    <message>
        <source>补打暂停的凭条</source>
        <translation>Reprint held tickets</translation>
    </message>
    <message>
        <source>取消暂停的凭条</source>
        <translation>Cancel held tickets</translation>
    </message>
    <message>
        <source>{mm} 毫米（{dots} 点）</source>
        <translation>{mm} mm ({dots} dots)</translation>
    </message>
    <message>
        <source>{ascii} 个英文字符 / {cjk} 个汉字</source>
        <translation>{ascii} Latin / {cjk} Chinese characters</translation>
    </message>
    <message>
        <source>是</source>
        <translation>Yes</translation>
    </message>
    <message>
        <source>否（以图像打印）</source>
        <translation>No (printed as an image)</translation>
    </message>
    <message>
        <source>有</source>
        <translation>Yes</translation>
    </message>
    <message>
        <source>无（手撕）</source>
        <translation>No (tear off)</translation>
    </message>
    <message>
        <source>正常</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>纸将用完</source>
        <translation>Paper low</translation>
    </message>
    <message>
        <source>缺纸</source>
        <translation>Out of paper</translation>
    </message>
    <message>
        <source>纸仓盖打开</source>
        <translation>Cover open</translation>
    </message>
    <message>
        <source>离线</source>
        <translation>Offline</translation>
    </message>
    <message>
        <source>无应答（状态未知）</source>
        <translation>No answer (state unknown)</translation>
    </message>
    <message>
        <source>状态未知：此打印机不回报状态，缺纸、开盖时本机无法得知，请定期查看纸卷</source>
        <translation>Status unknown: this printer does not report its status, so the kiosk cannot tell when paper runs out or the cover is open; check the roll regularly</translation>
    </message>
    <message>
        <source>故障</source>
        <translation>Fault</translation>
    </message>
    <message>
        <source>无法连接</source>
        <translation>Unreachable</translation>
    </message>
    <message>
        <source>{state}（{detail}）</source>
        <translation>{state} ({detail})</translation>
    </message>
    <message>
        <source>{n} 张</source>
        <translation>{n}</translation>
    </message>
</context>
<context>
    <name>QueryResultScreen</name>
    <message>
        <source>排队进度</source>
        <translation>Queue progress</translation>
    </message>
    <message>
        <source>办理进度</source>
        <translation>Progress</translation>
    </message>
    <message>
        <source>完成，返回首页</source>
        <translation>Done, back to Home</translation>
    </message>
    <message>
        <source>办件查询</source>
        <translation>Check progress</translation>
    </message>
    <message>
        <source>号码 {number}</source>
        <translation>Number {number}</translation>
    </message>
    <message>
        <source>您的号已从 {old} 转为 {new}</source>
        <translation>Your number {old} was transferred to {new}</translation>
    </message>
    <message>
        <source>正在排队</source>
        <translation>Waiting in the queue</translation>
    </message>
    <message>
        <source>请留意叫号屏。</source>
        <translation>Watch the calling screen.</translation>
    </message>
    <message>
        <source>下一个就是您</source>
        <translation>You are next</translation>
    </message>
    <message>
        <source>请留意叫号屏，不要走远。</source>
        <translation>Watch the calling screen and stay close.</translation>
    </message>
    <message>
        <source>前面还有 {n} 人</source>
        <translation>{n} ahead of you</translation>
    </message>
    <message>
        <source>预计等待约 {m} 分钟</source>
        <translation>About {m} minutes to wait</translation>
    </message>
    <message>
        <source>{n} 号窗口</source>
        <translation>counter {n}</translation>
    </message>
    <message>
        <source>正在叫您的号</source>
        <translation>Your number is being called</translation>
    </message>
    <message>
        <source>请看叫号屏上的窗口号。</source>
        <translation>See the calling screen for the counter.</translation>
    </message>
    <message>
        <source>请到 {counter}</source>
        <translation>Please go to {counter}</translation>
    </message>
    <message>
        <source>已办理完毕</source>
        <translation>Done</translation>
    </message>
    <message>
        <source>这个号已经办完，不会再叫。</source>
        <translation>This number has been served and will not be called again.</translation>
    </message>
    <message>
        <source>已过号</source>
        <translation>Number missed</translation>
    </message>
    <message>
        <source>{until} 前到任一窗口说明，可按原来的顺序办理。</source>
        <translation>Until {until}, ask at any counter to keep your place in the queue.</translation>
    </message>
    <message>
        <source>请重新取号。</source>
        <translation>Please take a new number.</translation>
    </message>
    <message>
        <source>这个号已作废</source>
        <translation>This number is void</translation>
    </message>
    <message>
        <source>取号没有完成，这个号不会被叫到。请重新取号。</source>
        <translation>The number was not issued in full and will not be called. Please take a new number.</translation>
    </message>
    <message>
        <source>已转到其他业务排队</source>
        <translation>Moved to another service&apos;s queue</translation>
    </message>
    <message>
        <source>请留意叫号屏，或询问工作人员。</source>
        <translation>Watch the calling screen, or ask a member of staff.</translation>
    </message>
    <message>
        <source>{title}：{status}</source>
        <translation>{title}: {status}</translation>
    </message>
    <message>
        <source>{title}  ·  {status}</source>
        <translation>{title}  ·  {status}</translation>
    </message>
    <message>
        <source>{when}   {what}：{note}</source>
        <translation>{when}   {what}: {note}</translation>
    </message>
</context>
<context>
    <name>RatingScreen</name>
    <message>
        <source>请为本次服务评价</source>
        <translation>How was our service?</translation>
    </message>
    <message>
        <source>原因（可选，可多选）</source>
        <translation>Why? (optional, choose any)</translation>
    </message>
    <message>
        <source>提交评价</source>
        <translation>Submit rating</translation>
    </message>
    <message>
        <source>提交评价，返回首页</source>
        <translation>Submit rating, back to Home</translation>
    </message>
    <message>
        <source>完成，返回首页</source>
        <translation>Done, back to Home</translation>
    </message>
    <message>
        <source>好差评</source>
        <translation>Rate our service</translation>
    </message>
    <message>
        <source>感谢您的评价！</source>
        <translation>Thank you for your rating!</translation>
    </message>
</context>
<context>
    <name>ScanScreen</name>
    <message>
        <source>请扫描排队凭条或回执上的二维码，或出示随申码</source>
        <translation>Scan the QR code on your queue ticket or receipt, or show your Suishenma code</translation>
    </message>
    <message>
        <source>没有回执和手机？呼叫帮办</source>
        <translation>No receipt or phone? Call staff</translation>
    </message>
    <message>
        <source>预约签到：请出示随申码</source>
        <translation>Appointment check-in: show your Suishenma code</translation>
    </message>
    <message>
        <source>没有手机？直接取普通号</source>
        <translation>No phone? Take a regular number</translation>
    </message>
    <message>
        <source>请出示随申码</source>
        <translation>Please show your Suishenma code</translation>
    </message>
    <message>
        <source>没有手机？直接取号</source>
        <translation>No phone? Take a number</translation>
    </message>
    <message>
        <source>打开“随申办”App，将随申码对准屏幕中间的方框，距离约 20 厘米</source>
        <translation>Open the Suishenban app and hold your Suishenma code to the frame in the middle of the screen, about 20 cm away</translation>
    </message>
    <message>
        <source>① 打开“随申办”App
② 点击首页的“随申码”
③ 将手机屏幕对准左侧方框</source>
        <translation>① Open the Suishenban app
② Tap “Suishenma” on its home page
③ Hold your phone to the frame on the left</translation>
    </message>
    <message>
        <source>也可以刷身份证：
请将身份证平放在读卡区</source>
        <translation>You can also use your ID card:
place it flat on the card reader</translation>
    </message>
    <message>
        <source>办件查询</source>
        <translation>Check progress</translation>
    </message>
    <message>
        <source>预约签到</source>
        <translation>Appointment check-in</translation>
    </message>
    <message>
        <source>扫码取号</source>
        <translation>Scan to take a number</translation>
    </message>
</context>
<context>
    <name>ServicesScreen</name>
    <message>
        <source>请选择服务</source>
        <translation>Choose a service</translation>
    </message>
    <message>
        <source>一件事
一次办成</source>
        <translation>One-stop services</translation>
    </message>
    <message>
        <source>办件查询</source>
        <translation>Check progress</translation>
    </message>
    <message>
        <source>预约签到</source>
        <translation>Appointment check-in</translation>
    </message>
    <message>
        <source>好差评</source>
        <translation>Rate our service</translation>
    </message>
    <message>
        <source>更多服务</source>
        <translation>More services</translation>
    </message>
    <message>
        <source>请选择服务：一件事、办件查询、预约签到，或者好差评。</source>
        <translation>Choose a service: one-stop services, application status, appointment check-in, or rate our service.</translation>
    </message>
</context>
<context>
    <name>StatsSection</name>
    <message>
        <source>今日统计</source>
        <translation>Statistics</translation>
    </message>
    <message>
        <source>刷新统计</source>
        <translation>Refresh statistics</translation>
    </message>
    <message>
        <source>今日统计（{day}）</source>
        <translation>Statistics for {day}</translation>
    </message>
    <message>
        <source>取号</source>
        <translation>Tickets</translation>
    </message>
    <message>
        <source>一件事申请</source>
        <translation>Bundle applications</translation>
    </message>
    <message>
        <source>一件事办理</source>
        <translation>Bundles</translation>
    </message>
    <message>
        <source>其他服务</source>
        <translation>Other services</translation>
    </message>
    <message>
        <source>好差评</source>
        <translation>Ratings</translation>
    </message>
    <message>
        <source>评价原因</source>
        <translation>Rating reasons</translation>
    </message>
    <message>
        <source>呼叫帮办</source>
        <translation>Staff calls</translation>
    </message>
    <message>
        <source>故障</source>
        <translation>Fault</translation>
    </message>
    <message>
        <source>办理用时（中位数）</source>
        <translation>Time taken (median)</translation>
    </message>
    <message>
        <source>普通</source>
        <translation>Ordinary</translation>
    </message>
    <message>
        <source>已提交</source>
        <translation>Submitted</translation>
    </message>
    <message>
        <source>开始</source>
        <translation>Started</translation>
    </message>
    <message>
        <source>完成</source>
        <translation>Finished</translation>
    </message>
    <message>
        <source>中途放弃</source>
        <translation>Abandoned</translation>
    </message>
    <message>
        <source>合计</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>评价次数</source>
        <translation>Count</translation>
    </message>
    <message>
        <source>平均分</source>
        <translation>Average</translation>
    </message>
    <message>
        <source>办件查询</source>
        <translation>Check progress</translation>
    </message>
    <message>
        <source>预约签到</source>
        <translation>Appointment check-in</translation>
    </message>
    <message>
        <source>打印机</source>
        <translation>Printer</translation>
    </message>
    <message>
        <source>页面</source>
        <translation>Screen</translation>
    </message>
    <message>
        <source>首页</source>
        <translation>Home</translation>
    </message>
    <message>
        <source>更多服务页</source>
        <translation>More services</translation>
    </message>
    <message>
        <source>扫码页</source>
        <translation>Scan screen</translation>
    </message>
    <message>
        <source>选择业务页</source>
        <translation>Service choice</translation>
    </message>
    <message>
        <source>取号凭条页</source>
        <translation>Ticket screen</translation>
    </message>
    <message>
        <source>一件事列表</source>
        <translation>Bundle list</translation>
    </message>
    <message>
        <source>一件事办理步骤</source>
        <translation>Bundle steps</translation>
    </message>
    <message>
        <source>一件事回执页</source>
        <translation>Bundle receipt</translation>
    </message>
    <message>
        <source>办件查询扫码页</source>
        <translation>Progress: scan</translation>
    </message>
    <message>
        <source>办件查询结果页</source>
        <translation>Progress: result</translation>
    </message>
    <message>
        <source>预约签到扫码页</source>
        <translation>Check-in: scan</translation>
    </message>
    <message>
        <source>预约签到结果页</source>
        <translation>Check-in: result</translation>
    </message>
    <message>
        <source>评价页</source>
        <translation>Rating screen</translation>
    </message>
    <message>
        <source>未知</source>
        <translation>unknown</translation>
    </message>
    <message>
        <source>事项介绍</source>
        <translation>introduction</translation>
    </message>
    <message>
        <source>确认身份</source>
        <translation>identification</translation>
    </message>
    <message>
        <source>材料清单</source>
        <translation>materials list</translation>
    </message>
    <message>
        <source>核对信息</source>
        <translation>review</translation>
    </message>
    <message>
        <source>确认提交</source>
        <translation>confirmation</translation>
    </message>
    <message>
        <source>不符合条件</source>
        <translation>not eligible</translation>
    </message>
    <message>
        <source>问题“{text}”</source>
        <translation>question &quot;{text}&quot;</translation>
    </message>
    <message>
        <source>填写“{text}”</source>
        <translation>entering &quot;{text}&quot;</translation>
    </message>
    <message>
        <source>优先（{why}）</source>
        <translation>Priority ({why})</translation>
    </message>
    <message>
        <source>放弃于 {step}</source>
        <translation>Abandoned at {step}</translation>
    </message>
    <message>
        <source>{n} 秒</source>
        <translation>{n} s</translation>
    </message>
    <message>
        <source>无</source>
        <translation>None</translation>
    </message>
</context>
<context>
    <name>TakeNumberController</name>
    <message>
        <source>正在查询，请稍候…</source>
        <translation>Looking you up, please wait…</translation>
    </message>
    <message>
        <source>正在打印凭条…</source>
        <translation>Printing your ticket…</translation>
    </message>
    <message>
        <source>请取走凭条，留意叫号。</source>
        <translation>Please take your ticket and watch for your number.</translation>
    </message>
</context>
<context>
    <name>TicketRefusedScreen</name>
    <message>
        <source>现在不能取号</source>
        <translation>No numbers now</translation>
    </message>
    <message>
        <source>今日号源已取完</source>
        <translation>Today&apos;s numbers are all taken</translation>
    </message>
    <message>
        <source>该业务现在不取号。</source>
        <translation>This service gives no numbers now.</translation>
    </message>
    <message>
        <source>该业务今日的号已经取完了。</source>
        <translation>Today&apos;s numbers for this service are all taken.</translation>
    </message>
    <message>
        <source>下次可取号时间：{when}</source>
        <translation>Numbers are given again from {when}</translation>
    </message>
    <message>
        <source>其他事项（一件事、办件查询、好差评、帮办）仍可办理。</source>
        <translation>Everything else (one-stop services, progress, rating, help) still works.</translation>
    </message>
    <message>
        <source>返回首页</source>
        <translation>Back to Home</translation>
    </message>
    <message>
        <source>取号</source>
        <translation>Tickets</translation>
    </message>
</context>
<context>
    <name>TicketScreen</name>
    <message>
        <source>您已取过号，这是您的号码</source>
        <translation>You already have a number: here it is</translation>
    </message>
    <message>
        <source>离线取号 · 等候人数和时间未知</source>
        <translation>Issued offline: people ahead and wait unknown</translation>
    </message>
    <message>
        <source>重新打印凭条</source>
        <translation>Print the ticket again</translation>
    </message>
    <message>
        <source>取号成功</source>
        <translation>Here is your number</translation>
    </message>
    <message>
        <source>完成，返回首页</source>
        <translation>Done, back to Home</translation>
    </message>
    <message>
        <source>排队系统暂时连不上，这是本机预留的号码，有效，按取号时间排队。前面等候人数和等待时间暂时未知，请留意叫号屏。</source>
        <translation>The queue system cannot be reached just now. This number was held in reserve by this kiosk: it is valid and keeps its place by the time it was issued. How many are ahead and how long the wait is are not known yet: watch the calling screen.</translation>
    </message>
    <message>
        <source>评价本次服务</source>
        <translation>Rate this service</translation>
    </message>
    <message>
        <source>您的排队号</source>
        <translation>Your queue number</translation>
    </message>
    <message>
        <source>您的号码是 {number}</source>
        <translation>Your number is {number}</translation>
    </message>
    <message>
        <source>您的号码是 {number}，前面等候 {n} 人</source>
        <translation>Your number is {number}. {n} people are waiting ahead of you</translation>
    </message>
    <message>
        <source>未知</source>
        <translation>unknown</translation>
    </message>
    <message>
        <source>办理业务</source>
        <translation>Service</translation>
    </message>
    <message>
        <source>前面等候</source>
        <translation>Waiting ahead</translation>
    </message>
    <message>
        <source>{n} 人</source>
        <translation>{n}</translation>
    </message>
    <message>
        <source>预计等待</source>
        <translation>Estimated wait</translation>
    </message>
    <message>
        <source>约 {n} 分钟</source>
        <translation>about {n} min</translation>
    </message>
    <message>
        <source>取号时间</source>
        <translation>Issued at</translation>
    </message>
    <message>
        <source>取号人</source>
        <translation>Name</translation>
    </message>
</context>
<context>
    <name>WizardScreen</name>
    <message>
        <source>‹ 上一步</source>
        <translation>‹ Back</translation>
    </message>
    <message>
        <source>下一步 ›</source>
        <translation>Next ›</translation>
    </message>
    <message>
        <source>一件事一次办成</source>
        <translation>One-stop services</translation>
    </message>
    <message>
        <source>第 {k} 步</source>
        <translation>Step {k}</translation>
    </message>
    <message>
        <source>第 {k} 步，最后一步</source>
        <translation>Step {k} · last step</translation>
    </message>
    <message>
        <source>第 {k} 步，还有 {n} 步</source>
        <translation>Step {k} · {n} more</translation>
    </message>
    <message>
        <source>第 {k} 步，还有约 {n} 步</source>
        <translation>Step {k} · about {n} more</translation>
    </message>
</context>
<context>
    <name>messages</name>
    <message>
        <source>这不是随申码。请打开“随申办”App，出示个人随申码后再扫。</source>
        <translation>This is not a Suishenma code. Open the Suishenban app and show your personal Suishenma code.</translation>
    </message>
    <message>
        <source>二维码不完整或已损坏，无法识别。请在手机上刷新随申码后重新对准方框。</source>
        <translation>The QR code is incomplete or damaged. Refresh your Suishenma code on your phone and hold it to the frame again.</translation>
    </message>
    <message>
        <source>这个随申码的版本本机暂不支持。请更新“随申办”App，或选择“没有手机？直接取号”。</source>
        <translation>This kiosk does not support this version of the Suishenma code. Update the Suishenban app, or choose “No phone? Take a number”.</translation>
    </message>
    <message>
        <source>这是其他用途的二维码（如排队凭条或回执），不是个人随申码。请出示个人随申码。</source>
        <translation>This QR code is for something else (such as a queue ticket or a receipt). Please show your personal Suishenma code.</translation>
    </message>
    <message>
        <source>无法确认这个二维码的来源。请出示“随申办”App 中的随申码，或联系工作人员。</source>
        <translation>We cannot tell where this QR code comes from. Please show the Suishenma code in the Suishenban app, or ask a staff member.</translation>
    </message>
    <message>
        <source>二维码校验未通过，可能被修改过。请出示“随申办”App 中的随申码，或联系工作人员。</source>
        <translation>This QR code failed its check and may have been altered. Please show the Suishenma code in the Suishenban app, or ask a staff member.</translation>
    </message>
    <message>
        <source>随申码已过期（截图无效）。请在手机上刷新随申码后再扫。</source>
        <translation>This Suishenma code has expired (screenshots do not work). Refresh it on your phone and scan again.</translation>
    </message>
    <message>
        <source>随申码时间不正确。请检查手机的日期和时间设置，刷新随申码后再扫。</source>
        <translation>The time on this Suishenma code is wrong. Check the date and time on your phone, refresh the code and scan again.</translation>
    </message>
    <message>
        <source>这个随申码已经用过了。请在手机上刷新随申码后再扫。</source>
        <translation>This Suishenma code has already been used. Refresh it on your phone and scan again.</translation>
    </message>
    <message>
        <source>未查到您的信息。请联系工作人员，或选择“没有手机？直接取号”。</source>
        <translation>We could not find your details. Please ask a staff member, or choose “No phone? Take a number”.</translation>
    </message>
    <message>
        <source>系统暂时无法连接，请稍后再试，或联系工作人员。</source>
        <translation>The system cannot be reached right now. Please try again later, or ask a staff member.</translation>
    </message>
    <message>
        <source>您已年满 80 周岁，将为您取优先号。</source>
        <translation>You are 80 or older: you will get a priority number.</translation>
    </message>
    <message>
        <source>您属于优先办理对象，将为您取优先号。</source>
        <translation>You are entitled to priority service: you will get a priority number.</translation>
    </message>
    <message>
        <source>您今天有预约，将为您取预约优先号。</source>
        <translation>You have an appointment today: you will get a priority appointment number.</translation>
    </message>
    <message>
        <source>打印机缺纸，凭条没有打印出来。</source>
        <translation>Out of paper: your ticket did not print.</translation>
    </message>
    <message>
        <source>打印机盖未关好，凭条没有打印出来。</source>
        <translation>The printer cover is open: your ticket did not print.</translation>
    </message>
    <message>
        <source>打印机暂时离线，凭条没有打印出来。</source>
        <translation>The printer is offline: your ticket did not print.</translation>
    </message>
    <message>
        <source>打印机无法连接，凭条没有打印出来。</source>
        <translation>The printer cannot be reached: your ticket did not print.</translation>
    </message>
    <message>
        <source>打印机故障，凭条没有打印出来。</source>
        <translation>The printer has a fault: your ticket did not print.</translation>
    </message>
    <message>
        <source>工作人员已收到提醒。</source>
        <translation>Staff have been alerted.</translation>
    </message>
    <message>
        <source>呼叫没有发送成功。请直接到服务台找工作人员，或拨打 {hotline} 热线。</source>
        <translation>The call did not go through. Please go to the service desk, or call the {hotline} hotline.</translation>
    </message>
    <message>
        <source>评价对象：排队号 {id}</source>
        <translation>Rating for: queue number {id}</translation>
    </message>
    <message>
        <source>评价对象：办件 {id}</source>
        <translation>Rating for: application {id}</translation>
    </message>
    <message>
        <source>提交没有成功，您填写的内容都还在。请稍后再按“确认提交”，或呼叫工作人员帮办。</source>
        <translation>Your application was not submitted, but everything you entered is kept. Please press “Submit application” again in a moment, or call staff for help.</translation>
    </message>
    <message>
        <source>请输入 11 位手机号码。</source>
        <translation>Please enter an 11-digit mobile number.</translation>
    </message>
    <message>
        <source>请输入银行卡号（12 至 19 位数字），与卡面上的号码一致。</source>
        <translation>Please enter the bank card number (12 to 19 digits) as printed on the card.</translation>
    </message>
    <message>
        <source>请输入 18 位身份证号码（末位可能是 X）。</source>
        <translation>Please enter the 18-character ID number (the last may be X).</translation>
    </message>
    <message>
        <source>请输入 8 位数字的日期：年年年年月月日日，如 20240131。</source>
        <translation>Please enter the date as 8 digits, YYYYMMDD, e.g. 20240131.</translation>
    </message>
    <message>
        <source>请输入 {n} 位数字。</source>
        <translation>Please enter {n} digits.</translation>
    </message>
    <message>
        <source>请输入 {low} 至 {high} 位数字。</source>
        <translation>Please enter {low} to {high} digits.</translation>
    </message>
    <message>
        <source>请输入至少 {n} 位数字。</source>
        <translation>Please enter at least {n} digits.</translation>
    </message>
    <message>
        <source>请输入不超过 {n} 位数字。</source>
        <translation>Please enter at most {n} digits.</translation>
    </message>
    <message>
        <source>请输入数字。</source>
        <translation>Please enter digits.</translation>
    </message>
    <message>
        <source>您输入了 {n} 位。</source>
        <translation>You typed {n}.</translation>
    </message>
    <message>
        <source>请填写这一项。</source>
        <translation>Please fill in this field.</translation>
    </message>
    <message>
        <source>只能输入数字。</source>
        <translation>Digits only, please.</translation>
    </message>
    <message>
        <source>位数不对，请核对后重新输入。</source>
        <translation>Wrong number of digits. Please check and try again.</translation>
    </message>
    <message>
        <source>银行卡号有误（校验不通过），请核对卡面上的号码。</source>
        <translation>This bank card number is not valid (check digit). Please check the number on your card.</translation>
    </message>
    <message>
        <source>日期格式不对，请按 年年年年月月日日 输入，如 20240131。</source>
        <translation>Please enter the date as YYYYMMDD, for example 20240131.</translation>
    </message>
    <message>
        <source>日期不能晚于今天。</source>
        <translation>The date cannot be after today.</translation>
    </message>
    <message>
        <source>日期不能早于今天。</source>
        <translation>The date cannot be before today.</translation>
    </message>
    <message>
        <source>身份证号码有误，请核对后重新输入。</source>
        <translation>This ID number is not valid. Please check and try again.</translation>
    </message>
    <message>
        <source>手机号码有误，请输入 11 位手机号码。</source>
        <translation>This phone number is not valid. Please enter an 11-digit mobile number.</translation>
    </message>
    <message>
        <source>今天</source>
        <translation>today</translation>
    </message>
    <message>
        <source>{y}年{m}月{d}日</source>
        <translation>{y}-{m}-{d}</translation>
    </message>
    <message>
        <source>请输入 {low} 至 {high} 之间的日期。</source>
        <translation>Enter a date from {low} to {high}.</translation>
    </message>
    <message>
        <source>请输入 {low} 或以后的日期。</source>
        <translation>Enter {low} or a later date.</translation>
    </message>
    <message>
        <source>请输入 {high} 或以前的日期。</source>
        <translation>Enter {high} or an earlier date.</translation>
    </message>
    <message>
        <source>日期不能早于 {low}，请核对后重新输入。</source>
        <translation>The date cannot be before {low}. Please check it.</translation>
    </message>
    <message>
        <source>日期不能晚于 {high}，请核对后重新输入。</source>
        <translation>The date cannot be after {high}. Please check it.</translation>
    </message>
    <message>
        <source>请输入{person}的身份证号码（18 位，末位可能是 X）。</source>
        <translation>Enter the ID number of {person} (18 characters; the last may be X).</translation>
    </message>
    <message>
        <source>这是您本人的身份证号码。这里请输入{person}的身份证号码。</source>
        <translation>This is your own ID number. Enter the ID number of {person} here.</translation>
    </message>
    <message>
        <source>✓ 免于提交（已调取{person}的电子证照）</source>
        <translation>✓ Not needed (electronic licences of {person} fetched)</translation>
    </message>
    <message>
        <source>正在调取{person}的电子证照…</source>
        <translation>Fetching the electronic licences of {person}…</translation>
    </message>
    <message>
        <source>没有查到办件记录。如已在窗口办理，请联系工作人员查询。</source>
        <translation>No applications found. If you applied at a service window, please ask a staff member.</translation>
    </message>
    <message>
        <source>这个预约已经签到过了，请留意叫号。如未取到号，请联系工作人员。</source>
        <translation>This appointment is already checked in: please watch for your number. If you did not get a number, please ask a staff member.</translation>
    </message>
    <message>
        <source>暂时无法连接排队系统，签到还没有完成。您的预约仍然有效，再试不会重复取号：请点“再试一次”。如仍不行，请到服务台请工作人员帮您签到，或拨打 {hotline}。</source>
        <translation>We cannot reach the queue system: your check-in is not finished yet. Your appointment is still valid, and trying again never gives you a second number: tap “Try again”. If it still does not work, please ask the staff at the service desk to check you in, or call {hotline}.</translation>
    </message>
    <message>
        <source>这个预约暂时无法在本机签到。请到服务台请工作人员帮您，或拨打 {hotline}。</source>
        <translation>This appointment cannot be checked in at this kiosk right now. Please ask the staff at the service desk, or call {hotline}.</translation>
    </message>
    <message>
        <source>这个预约已经签到过了（{at}），您的号码是 {number}（{category}），请留意叫号。凭条不在手边，可以点“重新打印凭条”。</source>
        <translation>This appointment was already checked in (at {at}). Your number is {number} ({category}): please watch for it. If you do not have the ticket with you, tap “Print the ticket again”.</translation>
    </message>
    <message>
        <source>没有查到您今天的预约。您可以先取普通号，也可以在“随申办”App 上预约。</source>
        <translation>We found no appointment for you today. You can take a regular number now, or book an appointment in the Suishenban app.</translation>
    </message>
    <message>
        <source>您预约的时段是今天 {slot}，现在还早，预约号请在时段开始前 30 分钟内签到。您也可以现在取普通号。</source>
        <translation>Your appointment is today, {slot}. It is still early: please check in within 30 minutes before it starts. You can also take a regular number now.</translation>
    </message>
    <message>
        <source>您预约的时段是今天 {slot}，已超过签到时间（时段结束后 15 分钟内）。预约已失效，您可以取普通号办理。</source>
        <translation>Your appointment was today, {slot}, and check-in closed 15 minutes after it ended. The appointment has lapsed; you can take a regular number instead.</translation>
    </message>
    <message>
        <source>排队系统响应较慢，正在确认您是否已取到号，请稍候，不要离开…</source>
        <translation>The queue system is slow to answer. We are checking whether your number was issued: please wait here…</translation>
    </message>
    <message>
        <source>排队系统没有回应，这次没有取到号。如果系统已经分配了号码，该号码会作废，不会被叫到。请稍后再点一次，或到服务台请工作人员帮您取号；也可拨打 {hotline}。</source>
        <translation>The queue system did not answer, so no number was issued this time. If it had already given one out, that number is cancelled and will not be called. Please tap again in a moment, or ask at the service desk; you can also call {hotline}.</translation>
    </message>
    <message>
        <source>刚才不用手机取号的人较多，请稍候再取号：约 {seconds} 秒后可以再取。着急的话，请到服务台请工作人员帮您取号。</source>
        <translation>Many numbers were just taken without a phone. Please wait a moment: you can take one in about {seconds} seconds. If you are in a hurry, please ask at the service desk.</translation>
    </message>
    <message>
        <source>用手机扫码查看排队进度</source>
        <translation>Scan with your phone to follow the queue</translation>
    </message>
    <message>
        <source>请在本机「办件查询」扫描此码查看进度</source>
        <translation>Scan this code at &quot;Check progress&quot; on this kiosk</translation>
    </message>
    <message>
        <source>用手机扫码查看办理进度</source>
        <translation>Scan with your phone to follow your application</translation>
    </message>
    <message>
        <source>请在本机「办件查询」扫描此码查看办理进度</source>
        <translation>Scan this code at &quot;Check progress&quot; on this kiosk</translation>
    </message>
    <message>
        <source>这是手机查询码，属于大厅排队系统，本机查不到。请用手机相机扫码打开查看，或联系工作人员。</source>
        <translation>This code is for your phone: it belongs to the hall&apos;s queue system, which this kiosk cannot look up. Open it with your phone&apos;s camera, or ask a member of staff.</translation>
    </message>
    <message>
        <source>本机查不了这个二维码。请扫描排队凭条或办件回执上的二维码，或出示随申码。</source>
        <translation>This kiosk cannot look up this QR code. Scan the code on your queue ticket or application receipt, or show your Suishenma code.</translation>
    </message>
    <message>
        <source>没有找到这个号。请核对凭条上的二维码，或联系工作人员。</source>
        <translation>No such number was found. Check the QR code on your ticket, or ask a member of staff.</translation>
    </message>
    <message>
        <source>没有找到这个办件。请核对回执上的二维码，或联系工作人员。</source>
        <translation>No such application was found. Check the QR code on your receipt, or ask a member of staff.</translation>
    </message>
    <message>
        <source>这张排队凭条不是今天的，已经失效。需要办理的话，请重新取号。</source>
        <translation>This queue ticket is not from today and is no longer valid. Please take a new number if you need service.</translation>
    </message>
    <message>
        <source>这张身份证已不在有效期内（有效期至 {until}），不能用来确认身份。请出示随申码，或联系工作人员。</source>
        <translation>This ID card is no longer valid (valid until {until}) and cannot confirm who you are. Please show your Suishenma code, or ask a member of staff.</translation>
    </message>
    <message>
        <source>这张身份证还未到有效期开始的日期，不能用来确认身份。请联系工作人员。</source>
        <translation>This ID card is not valid yet and cannot confirm who you are. Please ask a member of staff.</translation>
    </message>
    <message>
        <source>没有读到身份证信息，请重新放置身份证：拿起后重新平放在读卡区，读取时不要移动。</source>
        <translation>The ID card could not be read. Please place it again: lift it, lay it flat on the card reader and keep it still.</translation>
    </message>
    <message>
        <source>暂时无法连接排队系统，这次没有取到号（不会重复取号）。请稍后再点一次，或到服务台请工作人员帮您取号；也可拨打 {hotline}。</source>
        <translation>The queue system cannot be reached, so no number was issued (you will not get two). Please tap again in a moment, or ask at the service desk; you can also call {hotline}.</translation>
    </message>
    <message>
        <source>打印时打印机出了故障，凭条可能不完整。</source>
        <translation>The printer failed while printing; the slip may be incomplete.</translation>
    </message>
    <message>
        <source>您的号码仍然有效：请用手机拍下屏幕上的号码和二维码。工作人员已收到提醒。</source>
        <translation>Your number is still valid: take a photo of the number and the QR code on the screen. Staff have been alerted.</translation>
    </message>
    <message>
        <source>请记住或写下您的号码：
{number}&#x3000;{time} 取号</source>
        <translation>Remember or write down your number:
{number}  taken at {time}</translation>
    </message>
    <message>
        <source>打印机已恢复。请点“重新打印凭条”取凭条。</source>
        <translation>The printer is back. Tap “Print the ticket again” to get your ticket.</translation>
    </message>
    <message>
        <source>打印机缺纸，暂时不能打印凭条。</source>
        <translation>The printer is out of paper: no slips can be printed for now.</translation>
    </message>
    <message>
        <source>打印机盖未关好，暂时不能打印凭条。</source>
        <translation>The printer cover is open: no slips can be printed for now.</translation>
    </message>
    <message>
        <source>打印机故障，暂时不能打印凭条。</source>
        <translation>The printer has a fault: no slips can be printed for now.</translation>
    </message>
    <message>
        <source>仍可取号：号码显示在屏幕上，请拍下或记下。</source>
        <translation>You can still take a number: it is shown on the screen; photograph it or write it down.</translation>
    </message>
    <message>
        <source>摄像头暂时无法使用。请点“{button}”，或联系工作人员。</source>
        <translation>The camera is not working. Tap &quot;{button}&quot; or ask a member of staff.</translation>
    </message>
    <message>
        <source>系统暂时无法连接。您的申请已暂存在本机，网络恢复后会自动提交，不会丢失也不会重复。提交成功后，办件编号将以短信发送到您填写的手机号码；也可凭随申码在“办件查询”中查看。</source>
        <translation>The system cannot be reached right now. Your application is saved on this kiosk and will be submitted automatically, once and without loss, when the connection is back. Your reference number will then be sent by SMS to the mobile number you entered; you can also see it under “Check progress” with your Suishenma code.</translation>
    </message>
    <message>
        <source>感谢您的评价！系统暂时无法连接，评价已保存，稍后自动提交。</source>
        <translation>Thank you for your rating! The system cannot be reached right now; your rating is saved and will be sent later.</translation>
    </message>
</context>
<context>
    <name>queue_status</name>
    <message>
        <source>明天 {time}</source>
        <translation>{time} tomorrow</translation>
    </message>
    <message>
        <source>{month}{day}日 {time}</source>
        <translation>{day} {month} {time}</translation>
    </message>
    <message>
        <source>1月</source>
        <translation>Jan</translation>
    </message>
    <message>
        <source>2月</source>
        <translation>Feb</translation>
    </message>
    <message>
        <source>3月</source>
        <translation>Mar</translation>
    </message>
    <message>
        <source>4月</source>
        <translation>Apr</translation>
    </message>
    <message>
        <source>5月</source>
        <translation>May</translation>
    </message>
    <message>
        <source>6月</source>
        <translation>Jun</translation>
    </message>
    <message>
        <source>7月</source>
        <translation>Jul</translation>
    </message>
    <message>
        <source>8月</source>
        <translation>Aug</translation>
    </message>
    <message>
        <source>9月</source>
        <translation>Sep</translation>
    </message>
    <message>
        <source>10月</source>
        <translation>Oct</translation>
    </message>
    <message>
        <source>11月</source>
        <translation>Nov</translation>
    </message>
    <message>
        <source>12月</source>
        <translation>Dec</translation>
    </message>
    <message>
        <source>近期不取号</source>
        <translation>No numbers in the coming weeks</translation>
    </message>
    <message>
        <source>{when} 起取号</source>
        <translation>from {when}</translation>
    </message>
    <message>
        <source>今日号已取完</source>
        <translation>None left today</translation>
    </message>
    <message>
        <source>今日剩余 {n} 号</source>
        <translation>{n} left today</translation>
    </message>
    <message>
        <source>现在不取号，{when} 起可取号。</source>
        <translation>No numbers now: numbers from {when}.</translation>
    </message>
    <message>
        <source>近期不取号。</source>
        <translation>No numbers in the coming weeks.</translation>
    </message>
    <message>
        <source>今日号已取完，请改日再来。</source>
        <translation>Today&apos;s numbers are all taken: please come another day.</translation>
    </message>
    <message>
        <source>一件事、办件查询、好差评和帮办照常办理。</source>
        <translation>One-stop services, application status, rating and staff help are open as usual.</translation>
    </message>
    <message>
        <source>{closed}{others}</source>
        <translation>{closed} {others}</translation>
    </message>
</context>
</TS>
